/**
 * Open Inference Protocol tensors ↔ the data plane's rows (KServe's infer_type.py plays this part there): the
 * request's one input tensor → candidate rows, validated by the shared row validation; predictions → output tensors.
 * Pure functions, no Fastify.
 */
import { FEATURE_NAMES } from '../../../features/feature-schema.js';
import { ONNX_INPUT, ONNX_OUTPUTS } from '../../../contract/artifact-contract.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ROWS_PER_TURN, rowFromValues, type FieldNames } from '../../dataplane/patient-rows.js';
import { InvalidInputError, Refusals } from '../../dataplane/refusals.js';
import { FEATURE_COUNT, type BatchPrediction } from '../../model/service.js';
import { V2Error } from './errors.js';

export const INPUT_NAME = ONNX_INPUT;
export const OUTPUT_NAMES = [ONNX_OUTPUTS.label, ONNX_OUTPUTS.probabilities] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

export type TensorData = (number | null | TensorData)[];

export interface InferInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, unknown>;
  data: TensorData;
}

export interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: InferInput[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}

export interface OutputTensor {
  name: OutputName;
  datatype: 'INT64' | 'FP32';
  shape: number[];
  data: number[];
}

/** Tensor data in row-major order, given flat or nested to match `shape`; returns the flat elements or why not. */
export function flattenTensor(data: TensorData, shape: readonly number[]): { values: unknown[]; nested: boolean } | { error: string } {
  const expected = shape.reduce((a, b) => a * b, 1);
  const nested = data.some((d) => Array.isArray(d));
  if (!nested) {
    if (data.length !== expected) return { error: `data has ${data.length} elements, shape [${shape.join(', ')}] needs ${expected}` };
    return { values: data, nested };
  }
  const values: unknown[] = [];
  // Depth is bounded by the shape's length (at most 8 in the request schema), so the recursion is too.
  const walk = (node: unknown, depth: number, where: string): string | null => {
    if (depth === shape.length) {
      if (Array.isArray(node)) return `data${where} is nested deeper than shape [${shape.join(', ')}]`;
      values.push(node);
      return null;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      return `data${where} must be an array of ${shape[depth]} element(s) to match shape [${shape.join(', ')}]`;
    }
    for (let i = 0; i < node.length; i++) {
      const problem = walk(node[i], depth + 1, `${where}[${i}]`);
      if (problem) return problem;
    }
    return null;
  };
  const problem = walk(data, 0, '');
  return problem ? { error: problem } : { values, nested };
}

/**
 * Validated rows (schema order, NaN for null) from the request's one input tensor. A tensor that is not the model's
 * input is a V2Error naming the problem; values that break a feature's rules are an InvalidInputError with the same
 * details /predict gives, fields named where the client put them (`inputs[0].data[3][4] (chol)`).
 */
export async function rowsFromInputs(inputs: readonly InferInput[], maxBatchSize: number, maxDetails: number): Promise<number[][]> {
  if (inputs.length !== 1) throw new V2Error(400, `expected exactly 1 input tensor named '${INPUT_NAME}', got ${inputs.length}`);
  const input = inputs[0]!;
  if (input.name !== INPUT_NAME) throw new V2Error(400, `unknown input '${input.name}'; the model's input is '${INPUT_NAME}'`);
  if (input.datatype !== 'FP32') throw new V2Error(400, `input '${INPUT_NAME}': datatype must be FP32, got '${input.datatype}'`);
  const [n, width] = input.shape;
  if (input.shape.length !== 2 || width !== FEATURE_COUNT || n === undefined) {
    throw new V2Error(400, `input '${INPUT_NAME}': shape must be [N, ${FEATURE_COUNT}], got [${input.shape.join(', ')}]`);
  }
  if (n < 1 || n > maxBatchSize) throw new V2Error(400, `input '${INPUT_NAME}': batch size N must be 1 to ${maxBatchSize}, got ${n}`);
  const flat = flattenTensor(input.data, input.shape);
  if ('error' in flat) throw new V2Error(400, `input '${INPUT_NAME}': ${flat.error}`);

  const refusals = new Refusals(maxDetails);
  // Fields named where the client put the value: nested data by row and column, flat data by its index.
  const names: FieldNames = {
    field: (i, j) => `inputs[0].data${flat.nested ? `[${i}][${j}]` : `[${i * FEATURE_COUNT + j}]`} (${FEATURE_NAMES[j]})`,
  };
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % ROWS_PER_TURN === 0) await yieldToEventLoop();
    const row = rowFromValues(flat.values, i * FEATURE_COUNT, i, names, refusals);
    if (row) rows.push(row);
  }
  if (refusals.any) throw new InvalidInputError(`input '${INPUT_NAME}'`, refusals);
  return rows;
}

/** The output tensors of a prediction, in the requested order. */
export function outputTensors(run: BatchPrediction, requested: readonly OutputName[]): OutputTensor[] {
  const n = run.labels.length;
  return requested.map((name) =>
    name === ONNX_OUTPUTS.label
      ? { name, datatype: 'INT64', shape: [n], data: run.labels }
      : { name, datatype: 'FP32', shape: [n, 2], data: Array.from(run.probabilityMatrix) },
  );
}

/** The requested output names (all when none are named), or a V2Error naming the unknown ones. */
export function requestedOutputs(outputs: InferRequest['outputs']): OutputName[] {
  const requested = outputs?.map((o) => o.name) ?? [...OUTPUT_NAMES];
  const unknown = requested.filter((name) => !(OUTPUT_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new V2Error(400, `unknown output(s) ${unknown.join(', ')}; the model's outputs are ${OUTPUT_NAMES.join(', ')}`);
  return requested as OutputName[];
}
