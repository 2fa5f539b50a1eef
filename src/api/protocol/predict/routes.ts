/**
 * POST /predict: the project's own REST protocol (JSON patient objects). Reading the request is request.ts; the
 * work is the data plane's; this module wires the route and writes the answer.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { MOSTLY_MISSING_MIN_IMPUTED } from '../../../contract/artifact-contract.js';
import { InvalidInputError, Refusals } from '../../dataplane/refusals.js';
import type { Explanation } from '../../model/contributions.js';
import { riskBand } from '../../model/risk.js';
import { API_KEY_SECURITY } from '../../plugins/auth.js';
import type { DataPlanePrediction } from '../../dataplane/dataplane.js';
import { batchPredictionResponse, singlePredictionResponse } from '../../schemas/patient.js';
import { readPredictBody, readPredictQuery, type PredictQuery } from './request.js';

export interface PredictRoutesOptions {
  logPatientData: boolean;
  maxBatchSize: number;
  maxErrorDetails: number;
  maxExplainRows: number;
  /** Whether /predict needs an API key (declared as `security` in the OpenAPI document only then). */
  secured: boolean;
}

/**
 * Rows explained and written per event-loop turn: a large explained batch is produced piece by piece, so probes and
 * other requests are answered in between, and each piece's objects die young (no heap growth with the batch size).
 */
export const EXPLAIN_CHUNK_ROWS = 250;

/** Header naming the logged prediction (a batch: its first row; every row's id is in the body). */
export const PREDICTION_ID_HEADER = 'x-prediction-id';

/**
 * Row i's answer without explanation: one object literal, no spreads (the hot path). `modelVersion` is set for a
 * single patient's answer only. An absent prediction id (log off) is left out by the serializer.
 */
function plainPrediction(run: DataPlanePrediction, i: number, modelVersion?: string) {
  const probability = run.probabilities[i]!;
  return {
    predictionId: run.predictionIds?.[i],
    label: run.labels[i]!,
    probability,
    riskBand: riskBand(probability, run.model.card.threshold),
    imputed: run.imputed[i]!,
    mostlyMissing: run.mostlyMissing[i]!,
    modelVersion,
  };
}

/** Row i's answer with its explanation (written with JSON.stringify, which leaves the undefined fields out). */
function explainedPrediction(run: DataPlanePrediction, i: number, explanation: Explanation) {
  return {
    ...plainPrediction(run, i),
    explanation: explanation.method,
    logit: explanation.logit,
    baselineLogit: explanation.baselineLogit,
    contributions: explanation.contributions,
  };
}

/** The 200 serializer for `schema`, compiled by Fastify on first use and then reused (no lookup per request). */
function compiledOnce(schema: Parameters<FastifyReply['compileSerializationSchema']>[0]) {
  let serialize: ((payload: unknown) => string) | null = null;
  return (reply: FastifyReply) => (serialize ??= reply.compileSerializationSchema(schema, '200') as (payload: unknown) => string);
}

export default async function predictRoutes(app: FastifyInstance, opts: PredictRoutesOptions) {
  const serializers = { single: compiledOnce(singlePredictionResponse), batch: compiledOnce(batchPredictionResponse) };
  app.post<{ Body: unknown; Querystring: PredictQuery }>(
    '/predict',
    {
      onRequest: app.requireApiKey,
      config: { securityHeaders: 'json-api' },
      // The schema below is the published contract (docs, clients); requests are read by the shared validation
      // (the body in the handler, a few rows per event-loop turn), which gives every feature the same rule text as
      // the Open Inference Protocol route.
      validatorCompiler: ({ httpPart }) =>
        httpPart === 'body'
          ? () => true
          : (query: unknown) => {
              const read = readPredictQuery(query, opts.maxErrorDetails);
              return read instanceof InvalidInputError ? { error: read } : { value: read };
            },
      schema: {
        tags: ['prediction'],
        summary: 'Predict heart disease for one patient or a batch',
        description:
          'Body: one patient object, or `{ "instances": [patient, ...] }` (1 to MAX_BATCH_SIZE). Optional features may be omitted or null ' +
          `(the model imputes them; \`imputed\` lists them and \`mostlyMissing\` flags a row with ${MOSTLY_MISSING_MIN_IMPUTED} or more missing). ` +
          "Every prediction is logged under `predictionId` (also the `x-prediction-id` header: a batch's first row) for `POST /feedback`, " +
          'unless PREDICTION_LOG=off. Risk bands on P(disease): low < 0.2 <= moderate < threshold <= high (the decision threshold of the ' +
          'served model, GET /model). `?explain=true` adds per-feature ' +
          'contributions in log-odds (exact for logistic regression: logit = baselineLogit + sum of contributions; occlusion for the ' +
          'random forest), for up to MAX_EXPLAIN_ROWS rows.',
        ...(opts.secured && { security: API_KEY_SECURITY }),
        querystring: {
          type: 'object',
          properties: { explain: { type: 'string', enum: ['true', 'false', '1', '0'], description: 'Add per-feature contributions.' } },
        },
        body: { oneOf: [{ $ref: 'Patient#' }, { $ref: 'PatientBatch#' }] },
        response: {
          200: { anyOf: [singlePredictionResponse, batchPredictionResponse] },
          400: { $ref: 'Error#' },
          401: { $ref: 'Error#' },
          413: { $ref: 'Error#' },
          415: { $ref: 'Error#' },
        },
      },
    },
    async (request, reply) => {
      const read = readPredictBody(request.body, opts.maxBatchSize, opts.maxErrorDetails);
      const { rows, batch } = read instanceof Promise ? await read : read;
      if (request.query.explain && rows.length > opts.maxExplainRows) {
        const refusals = new Refusals(1);
        refusals.add(() => ({
          field: 'explain',
          rule: `can explain at most ${opts.maxExplainRows} rows per request (MAX_EXPLAIN_ROWS); send smaller batches`,
        }));
        throw new InvalidInputError('querystring', refusals);
      }
      if (opts.logPatientData) request.log.debug({ rows }, 'patient rows (LOG_PATIENT_DATA=true)');

      const body = request.body as { instances?: unknown[] };
      const received = batch ? (i: number) => body.instances![i] : () => body;
      const run = await app.dataPlane.predict(rows, undefined, {
        route: 'predict',
        received,
        receivedJson: batch ? null : request.jsonText,
      });
      if (run.predictionIds) reply.header(PREDICTION_ID_HEADER, run.predictionIds[0]!);
      if (!request.query.explain) {
        // The answer's shape is known here: serialize with that shape's compiled function (cached by Fastify per
        // schema). The published anyOf would make the serializer validate the whole answer against each branch
        // first, every id through a uuid pattern (a third of a logged 1,000-row batch's time).
        reply.type('application/json; charset=utf-8').serializer((batch ? serializers.batch : serializers.single)(reply));
        if (!batch) return plainPrediction(run, 0, run.model.version);
        return { modelVersion: run.model.version, predictions: rows.map((_, i) => plainPrediction(run, i)) };
      }

      // Explained answers are written here, piece by piece (JSON.stringify per chunk), instead of by the route's
      // response serializer: cost linear in rows, and the event loop is released between pieces.
      const pieces: string[] = [];
      for (let from = 0; from < rows.length; from += EXPLAIN_CHUNK_ROWS) {
        if (from > 0) await yieldToEventLoop();
        const chunk = rows.slice(from, from + EXPLAIN_CHUNK_ROWS);
        const explanations = await app.dataPlane.explain(run.model, chunk, run.probabilities.slice(from, from + chunk.length));
        pieces.push(chunk.map((_, k) => JSON.stringify(explainedPrediction(run, from + k, explanations[k]!))).join(','));
      }
      const version = JSON.stringify(run.model.version);
      reply.type('application/json; charset=utf-8');
      return batch
        ? `{"modelVersion":${version},"predictions":[${pieces.join(',')}]}`
        : `${pieces[0]!.slice(0, -1)},"modelVersion":${version}}`;
    },
  );
}
