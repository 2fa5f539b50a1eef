/**
 * Open Inference Protocol (KServe V2) REST endpoints, so the image runs as a KServe custom predictor and answers
 * KServe/Triton clients. Spec: github.com/kserve/open-inference-protocol, specification/protocol/inference_rest.md.
 * Tensors ↔ rows is tensor.ts, the work is the data plane's; here only the routes.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { scoredFeatures } from '../../../outcomes/prediction-records.js';
import type { DataPlanePrediction } from '../../dataplane/dataplane.js';
import { PREDICTION_ID_HEADER } from '../predict/routes.js';
import { IMAGE_NAME } from '../../../contract/artifact-contract.js';
import { API_KEY_SECURITY } from '../../plugins/auth.js';
import { FEATURE_COUNT, type LoadedModel } from '../../model/service.js';
import { readAnyContentTypeAsJson } from './content-type.js';
import { V2Error, setV2ErrorHandler } from './errors.js';
import {
  inferRequestSchema,
  inferSummary,
  modelMetadataResponse,
  modelParams,
  serverMetadataResponse,
  tags,
  v2Error,
  versionedParams,
} from './schemas.js';
import { INPUT_NAME, OUTPUT_NAMES, outputTensors, requestedOutputs, rowsFromInputs, type InferRequest } from './tensor.js';

export const V2_MODEL_NAME = 'heart-disease';

export interface V2RoutesOptions {
  maxBatchSize: number;
  maxErrorDetails: number;
  jsonMaxDepth: number;
  serverVersion: string;
  /** Whether infer needs an API key (declared as `security` in the OpenAPI document only then). */
  secured: boolean;
}

type ModelParams = { name: string; version?: string };

/**
 * Response `parameters` (the protocol allows only scalar values): per-row lists joined in row order, rows by ','
 * (ids, flags) and imputed names by ',' within a row and ';' between rows.
 */
export function responseParameters(run: DataPlanePrediction): Record<string, string> {
  return {
    ...(run.predictionIds && { prediction_ids: run.predictionIds.join(',') }),
    imputed: run.imputed.map((names) => names.join(',')).join(';'),
    mostly_missing: run.mostlyMissing.map(String).join(','),
  };
}

export default async function v2Routes(app: FastifyInstance, opts: V2RoutesOptions) {
  setV2ErrorHandler(app);
  readAnyContentTypeAsJson(app, opts.jsonMaxDepth);

  function resolve(name: string, version?: string): LoadedModel {
    if (name !== V2_MODEL_NAME) throw new V2Error(404, `model '${name}' not found; this server serves '${V2_MODEL_NAME}'`);
    const model = app.modelService.current;
    if (!model) throw new V2Error(503, `model '${name}' is not loaded`);
    if (version !== undefined && version !== model.version) {
      throw new V2Error(404, `model '${name}' version '${version}' not found; serving version '${model.version}'`);
    }
    return model;
  }

  app.get('/v2', { schema: { tags, summary: 'Server metadata', response: { 200: serverMetadataResponse } } }, async () => ({
    name: IMAGE_NAME,
    version: opts.serverVersion,
    extensions: [],
  }));
  app.get(
    '/v2/health/live',
    { schema: { tags, summary: 'Server live', response: { 200: { type: 'object', properties: { live: { type: 'boolean' } } } } } },
    async () => ({ live: true }),
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

  // Each route declares the path parameters its path has (a `version` on /v2/models/{name} made the document invalid).
  const versioned = versionedParams(app.modelService.current?.version ?? '1');
  const metadataSchema = (params: object) => ({
    tags,
    summary: 'Model metadata',
    params,
    response: { 200: modelMetadataResponse, '4xx': v2Error, 503: v2Error },
  });
  const metadata = async (request: { params: ModelParams }) => {
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
  app.get<{ Params: ModelParams }>('/v2/models/:name', { schema: metadataSchema(modelParams) }, metadata);
  app.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version', { schema: metadataSchema(versioned) }, metadata);

  const readySchema = (params: object) => ({
    tags,
    summary: 'Model ready',
    params,
    response: {
      '2xx': { type: 'object', properties: { name: { type: 'string' }, ready: { type: 'boolean' } } },
      '4xx': v2Error,
      503: v2Error,
    },
  });
  const modelReady = async (request: { params: ModelParams }) => {
    resolve(request.params.name, request.params.version);
    return { name: V2_MODEL_NAME, ready: true };
  };
  app.get<{ Params: ModelParams }>('/v2/models/:name/ready', { schema: readySchema(modelParams) }, modelReady);
  app.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version/ready', { schema: readySchema(versioned) }, modelReady);

  const inferSchema = (params: object) => ({
    tags,
    summary: inferSummary,
    ...(opts.secured && { security: API_KEY_SECURITY }),
    params,
    body: inferRequestSchema,
    response: { '4xx': v2Error, 503: v2Error },
  });
  const infer = async (request: { params: ModelParams; body: InferRequest }, reply: FastifyReply) => {
    const model = resolve(request.params.name, request.params.version);
    const body = request.body;
    const requested = requestedOutputs(body.outputs);
    const rows = await rowsFromInputs(body.inputs, opts.maxBatchSize, opts.maxErrorDetails);
    // The tensor row as sent is the row as scored (null = missing).
    const run = await app.dataPlane.predict(rows, model, { route: 'v2', received: (i) => scoredFeatures(rows[i]!) });
    if (run.predictionIds) reply.header(PREDICTION_ID_HEADER, run.predictionIds[0]!);
    return {
      model_name: V2_MODEL_NAME,
      model_version: run.model.version,
      ...(body.id !== undefined && { id: body.id }),
      parameters: responseParameters(run),
      outputs: outputTensors(run, requested),
    };
  };
  const inferOptions = (params: object) => ({
    onRequest: app.requireApiKey,
    config: { securityHeaders: 'json-api' as const },
    schema: inferSchema(params),
  });
  app.post<{ Params: ModelParams; Body: InferRequest }>('/v2/models/:name/infer', inferOptions(modelParams), infer);
  app.post<{ Params: ModelParams; Body: InferRequest }>('/v2/models/:name/versions/:version/infer', inferOptions(versioned), infer);
}
