import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Attribute = InstanceType<typeof onnx.AttributeProto>;
type Node = InstanceType<typeof onnx.NodeProto>;
type Tensor = InstanceType<typeof onnx.TensorProto>;

export const ONNX_ML_DOMAIN = 'ai.onnx.ml';
const AttributeType = onnx.AttributeProto.AttributeType;
const DataType = onnx.TensorProto.DataType;

export type AttributeValue = number | string | number[] | string[] | { floats: number[] } | { ints: number[] };

/** Integers stay integers; a plain number with a fraction is a float. Use {floats}/{ints} to force a list type. */
function attribute(name: string, value: AttributeValue): Attribute {
  if (typeof value === 'string')
    return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value })
      : onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value });
  }
  if ('floats' in value) return onnx.AttributeProto.create({ name, type: AttributeType.FLOATS, floats: value.floats });
  if ('ints' in value) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: value.ints });
  if (value.length > 0 && typeof value[0] === 'string') {
    return onnx.AttributeProto.create({
      name,
      type: AttributeType.STRINGS,
      strings: (value as string[]).map((s) => new TextEncoder().encode(s)),
    });
  }
  throw new Error(`attribute ${name}: ambiguous numeric list, wrap it as {floats} or {ints}`);
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, AttributeValue> = {},
  domain = '',
): Node {
  return onnx.NodeProto.create({
    opType,
    input: inputs,
    output: outputs,
    name: `${opType}_${outputs[0]}`,
    domain,
    attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
  });
}

export function int64Tensor(name: string, values: number[], dims: number[] = [values.length]): Tensor {
  return onnx.TensorProto.create({ name, dataType: DataType.INT64, dims, int64Data: values });
}

export function floatTensor(name: string, values: number[], dims: number[] = [values.length]): Tensor {
  return onnx.TensorProto.create({ name, dataType: DataType.FLOAT, dims, floatData: values });
}

export const INT64 = DataType.INT64;
export const FLOAT = DataType.FLOAT;

type Dim = number | string;

function valueInfo(name: string, elemType: number, dims: Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        }),
      }),
    }),
  });
}

export const floatInfo = (name: string, dims: Dim[]) => valueInfo(name, DataType.FLOAT, dims);
export const int64Info = (name: string, dims: Dim[]) => valueInfo(name, DataType.INT64, dims);

export interface ModelSpec {
  graphName: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ReturnType<typeof valueInfo>[];
  outputs: ReturnType<typeof valueInfo>[];
  producerVersion: string;
  docString: string;
  metadata: Record<string, string>;
}

/** Serialise a model; the encoding has no timestamps or random ids, so equal specs give equal bytes. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'heart-disease-mlops',
    producerVersion: spec.producerVersion,
    docString: spec.docString,
    opsetImport: [
      { domain: '', version: 17 },
      { domain: ONNX_ML_DOMAIN, version: 3 },
    ],
    metadataProps: Object.entries(spec.metadata).map(([key, value]) => ({ key, value })),
    graph: onnx.GraphProto.create({
      name: spec.graphName,
      node: spec.nodes,
      initializer: spec.initializers,
      input: spec.inputs,
      output: spec.outputs,
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}
