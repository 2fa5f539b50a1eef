/**
 * POST /predict: the project's own REST protocol (JSON patient objects). Reading the request is request.ts; the
 * work is the data plane's; this module only wires the route and shapes the answer.
 */
import type { FastifyInstance } from 'fastify';
import { API_KEY_SECURITY } from '../../plugins/auth.js';
import { riskBand } from '../../model/risk.js';
import { batchPredictionResponse, singlePredictionResponse } from '../../schemas/patient.js';
import { readPredictBody, readPredictQuery, type PredictInput, type PredictQuery } from './request.js';

export interface PredictRoutesOptions {
  logPatientData: boolean;
  maxBatchSize: number;
  maxErrorDetails: number;
  /** Whether /predict needs an API key (declared as `security` in the OpenAPI document only then). */
  secured: boolean;
}

export default async function predictRoutes(app: FastifyInstance, opts: PredictRoutesOptions) {
  app.post<{ Body: PredictInput; Querystring: PredictQuery }>(
    '/predict',
    {
      onRequest: [app.jsonApiHeaders, app.requireApiKey],
      helmet: false,
      // The schema below is the published contract (docs, clients); requests are read by the shared validation,
      // which gives every feature the same rule text as the Open Inference Protocol route.
      validatorCompiler: ({ httpPart }) =>
        httpPart === 'body'
          ? (body: unknown) => ({ value: readPredictBody(body, opts.maxBatchSize, opts.maxErrorDetails) })
          : (query: unknown) => ({ value: readPredictQuery(query, opts.maxErrorDetails) }),
      schema: {
        tags: ['prediction'],
        summary: 'Predict heart disease for one patient or a batch',
        description:
          'Body: one patient object, or `{ "instances": [patient, ...] }` (1 to MAX_BATCH_SIZE). Optional features may be omitted or null ' +
          '(the model imputes them). Risk bands on P(disease): low < 0.2 <= moderate < threshold <= high (the decision threshold of the served model, GET /model). `?explain=true` adds per-feature ' +
          'contributions in log-odds (exact for logistic regression: logit = baselineLogit + sum of contributions; occlusion for the random forest).',
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
    async (request) => {
      const { rows, batch } = request.body;
      if (opts.logPatientData) request.log.debug({ rows }, 'patient rows (LOG_PATIENT_DATA=true)');

      const run = await app.dataPlane.predict(rows);
      const explanations = request.query.explain ? await app.dataPlane.explain(run.model, rows, run.probabilities) : null;

      const predictions = rows.map((_, i) => {
        const probability = run.probabilities[i]!;
        const explanation = explanations?.[i];
        return {
          label: run.labels[i]!,
          probability,
          riskBand: riskBand(probability, run.model.card.threshold),
          ...(explanation && {
            explanation: explanation.method,
            logit: explanation.logit,
            ...(explanation.baselineLogit !== undefined && { baselineLogit: explanation.baselineLogit }),
            contributions: explanation.contributions,
          }),
        };
      });
      return batch ? { modelVersion: run.model.version, predictions } : { ...predictions[0]!, modelVersion: run.model.version };
    },
  );
}
