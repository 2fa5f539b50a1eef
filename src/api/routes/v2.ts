/**
 * Open Inference Protocol (KServe V2) REST endpoints, so the image runs as a KServe custom predictor and answers
 * KServe/Triton clients. Spec: github.com/kserve/open-inference-protocol, specification/protocol/inference_rest.md.
 * Errors follow the protocol: an HTTP error status with body { "error": "<message>" }.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { API_KEY_SECURITY } from '../plugins/auth.js';
import { FEATURES, ruleViolation } from '../../features/feature-schema.js';
import { IMAGE_NAME, ONNX_INPUT as INPUT_NAME, ONNX_OUTPUTS } from '../../contract/artifact-contract.js';
import { FEATURE_COUNT, type LoadedModel } from '../model/service.js';

const OUTPUT_NAMES = [ONNX_OUTPUTS.label, ONNX_OUTPUTS.probabilities] as const;
import { parseJsonBody } from '../plugins/json-parser.js';
import { validationErrorBody, type ValidationIssue } from '../schemas/errors.js';

export const V2_MODEL_NAME = 'heart-disease';

class V2Error extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

type TensorData = (number | null | TensorData)[];

interface InferInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, unknown>;
  data: TensorData;
}

interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: InferInput[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}

/**
 * Tensor data in row-major order, given flat or nested to match `shape`; returns the flat elements or why not.
 */
export function flattenTensor(data: TensorData, shape: readonly number[]): { values: (number | null)[] } | { error: string } {
  const expected = shape.reduce((a, b) => a * b, 1);
  const nested = data.some((d) => Array.isArray(d));
  if (!nested) {
    if (data.length !== expected) return { error: `data has ${data.length} elements, shape [${shape.join(', ')}] needs ${expected}` };
    return { values: data as (number | null)[] };
  }
  const values: (number | null)[] = [];
  const walk = (node: TensorData | number | null, depth: number, where: string): string | null => {
    if (depth === shape.length) {
      if (Array.isArray(node)) return `data${where} is nested deeper than shape [${shape.join(', ')}]`;
      values.push(node);
      return null;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      return `data${where} must be an array of ${shape[depth]} element(s) to match shape [${shape.join(', ')}]`;
    }
    for (let i = 0; i < node.length; i++) {
      const problem = walk(node[i]!, depth + 1, `${where}[${i}]`);
      if (problem) return problem;
    }
    return null;
  };
  const problem = walk(data, 0, '');
  return problem ? { error: problem } : { values };
}

/** Validated rows (schema order, NaN for null) from the one input tensor, or a V2Error naming the problem. */
export function rowsFromInputs(inputs: readonly InferInput[], maxBatchSize: number): number[][] {
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
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(FEATURE_COUNT);
    for (let j = 0; j < FEATURE_COUNT; j++) {
      const value = flat.values[i * FEATURE_COUNT + j];
      const feature = FEATURES[j]!;
      if (value === null || value === undefined) {
        if (feature.required)
          throw new V2Error(400, `input '${INPUT_NAME}': row ${i}, column ${j} (${feature.name}) is required, got null`);
        row[j] = Number.NaN;
        continue;
      }
      if (typeof value !== 'number')
        throw new V2Error(400, `input '${INPUT_NAME}': row ${i}, column ${j} (${feature.name}) must be a number or null`);
      const rule = ruleViolation(feature, value);
      if (rule) throw new V2Error(400, `input '${INPUT_NAME}': row ${i}, column ${j} (${feature.name}) ${rule}, got ${value}`);
      row[j] = value;
    }
    rows.push(row);
  }
  return rows;
}

const tensorMetadata = {
  type: 'object',
  properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
} as const;
const v2Error = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } } as const;
const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string' }, version: { type: 'string' } } } as const;

const parameters = { type: 'object', additionalProperties: true } as const;
const inferRequestSchema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string' },
    parameters,
    inputs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype', 'data'],
        properties: {
          name: { type: 'string' },
          shape: { type: 'array', items: { type: 'integer', minimum: 0 }, maxItems: 8 },
          datatype: { type: 'string' },
          parameters,
          data: { type: 'array', description: `row-major, flat or nested; null = missing feature (imputed)` },
        },
      },
    },
    outputs: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, parameters } } },
  },
} as const;

export interface V2RoutesOptions {
  maxBatchSize: number;
  serverVersion: string;
}

export default async function v2Routes(app: FastifyInstance, opts: V2RoutesOptions) {
  // Encapsulated: only these routes answer errors in the protocol's { error } shape.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const body = validationErrorBody(error.validation as ValidationIssue[], error.validationContext ?? 'body', request.body);
      return reply.code(400).send({ error: body.message });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500 && status !== 503) {
      request.log.error({ err: error }, 'V2 request failed');
      return reply.code(500).send({ error: `internal error (request id ${request.id})` });
    }
    return reply.code(status).send({ error: error.message });
  });

  // Open Inference Protocol clients (e.g. NVIDIA's tritonclient) send the JSON request without a JSON Content-Type:
  // here any content type is read as JSON. The binary tensor extension (Inference-Header-Content-Length) is not
  // supported and is refused with a clear message rather than misread.
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    if (request.headers['inference-header-content-length'] !== undefined) {
      return done(
        new V2Error(400, 'the binary tensor data extension is not supported; send tensors as JSON (e.g. binary_data=False)'),
        undefined,
      );
    }
    const result = parseJsonBody(body as string);
    if ('error' in result) done(result.error, undefined);
    else done(null, result.value);
  });

  function resolve(name: string, version?: string): LoadedModel {
    if (name !== V2_MODEL_NAME) throw new V2Error(404, `model '${name}' not found; this server serves '${V2_MODEL_NAME}'`);
    const model = app.modelService.current;
    if (!model) throw new V2Error(503, `model '${name}' is not loaded`);
    if (version !== undefined && version !== model.version) {
      throw new V2Error(404, `model '${name}' version '${version}' not found; serving version '${model.version}'`);
    }
    return model;
  }

  const tags = ['kserve-v2'];
  app.get(
    '/v2',
    {
      schema: {
        tags,
        summary: 'Server metadata',
        response: {
          200: {
            type: 'object',
            properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
    },
    async () => ({ name: IMAGE_NAME, version: opts.serverVersion, extensions: [] }),
  );
  app.get(
    '/v2/health/live',
    { schema: { tags, summary: 'Server live', response: { 200: { type: 'object', properties: { live: { type: 'boolean' } } } } } },
    async () => ({
      live: true,
    }),
  );
  app.get(
    '/v2/health/ready',
    {
      schema: {
        tags,
        summary: 'Server ready',
        response: {
          '2xx': { type: 'object', properties: { ready: { type: 'boolean' } } },
          503: { type: 'object', properties: { ready: { type: 'boolean' } } },
        },
      },
    },
    async (_request, reply) => {
      const ready = app.modelService.ready && !app.lifecycle.draining;
      return reply.code(ready ? 200 : 503).send({ ready });
    },
  );

  const metadataSchema = {
    tags,
    summary: 'Model metadata',
    params: nameParams,
    response: {
      200: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          versions: { type: 'array', items: { type: 'string' } },
          platform: { type: 'string' },
          inputs: { type: 'array', items: tensorMetadata },
          outputs: { type: 'array', items: tensorMetadata },
        },
      },
      '4xx': v2Error,
      503: v2Error,
    },
  };
  const metadata = async (request: { params: { name: string; version?: string } }) => {
    const model = resolve(request.params.name, request.params.version);
    return {
      name: V2_MODEL_NAME,
      versions: [model.version],
      platform: 'onnxruntime',
      inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape: [-1, FEATURE_COUNT] }],
      outputs: [
        { name: OUTPUT_NAMES[0], datatype: 'INT64', shape: [-1] },
        { name: OUTPUT_NAMES[1], datatype: 'FP32', shape: [-1, 2] },
      ],
    };
  };
  app.get<{ Params: { name: string; version?: string } }>('/v2/models/:name', { schema: metadataSchema }, metadata);
  app.get<{ Params: { name: string; version?: string } }>('/v2/models/:name/versions/:version', { schema: metadataSchema }, metadata);

  const readySchema = {
    tags,
    summary: 'Model ready',
    params: nameParams,
    response: {
      '2xx': { type: 'object', properties: { name: { type: 'string' }, ready: { type: 'boolean' } } },
      '4xx': v2Error,
      503: v2Error,
    },
  };
  const modelReady = async (request: { params: { name: string; version?: string } }) => {
    resolve(request.params.name, request.params.version);
    return { name: V2_MODEL_NAME, ready: true };
  };
  app.get<{ Params: { name: string; version?: string } }>('/v2/models/:name/ready', { schema: readySchema }, modelReady);
  app.get<{ Params: { name: string; version?: string } }>('/v2/models/:name/versions/:version/ready', { schema: readySchema }, modelReady);

  const inferSchema = {
    tags,
    summary: `Inference: input '${INPUT_NAME}' FP32 [N, ${FEATURE_COUNT}] in feature-schema order (null = missing)`,
    security: API_KEY_SECURITY,
    params: nameParams,
    body: inferRequestSchema,
    response: { '4xx': v2Error, 503: v2Error },
  };
  const infer = async (request: { params: { name: string; version?: string }; body: InferRequest }) => {
    const model = resolve(request.params.name, request.params.version);
    const body = request.body;
    const requested = body.outputs?.map((o) => o.name) ?? [...OUTPUT_NAMES];
    const unknown = requested.filter((name) => !(OUTPUT_NAMES as readonly string[]).includes(name));
    if (unknown.length > 0)
      throw new V2Error(400, `unknown output(s) ${unknown.join(', ')}; the model's outputs are ${OUTPUT_NAMES.join(', ')}`);
    const rows = rowsFromInputs(body.inputs, opts.maxBatchSize);

    const run = await app.modelService.predict(rows, model);
    app.metrics.recordPredictions(run.labels, run.probabilities);
    app.drift.observe(rows);

    const n = rows.length;
    const tensors = {
      [ONNX_OUTPUTS.label]: { name: ONNX_OUTPUTS.label, datatype: 'INT64', shape: [n], data: run.labels },
      [ONNX_OUTPUTS.probabilities]: {
        name: ONNX_OUTPUTS.probabilities,
        datatype: 'FP32',
        shape: [n, 2],
        data: Array.from(run.probabilityMatrix),
      },
    };
    return {
      model_name: V2_MODEL_NAME,
      model_version: run.model.version,
      ...(body.id !== undefined && { id: body.id }),
      outputs: requested.map((name) => tensors[name as keyof typeof tensors]),
    };
  };
  app.post<{ Params: { name: string; version?: string }; Body: InferRequest }>(
    '/v2/models/:name/infer',
    { onRequest: [app.jsonApiHeaders, app.requireApiKey], helmet: false, schema: inferSchema },
    infer,
  );
  app.post<{ Params: { name: string; version?: string }; Body: InferRequest }>(
    '/v2/models/:name/versions/:version/infer',
    { onRequest: [app.jsonApiHeaders, app.requireApiKey], helmet: false, schema: inferSchema },
    infer,
  );
}
