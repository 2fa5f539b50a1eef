import type { FastifyInstance } from 'fastify';
import { API_KEY_SECURITY } from '../plugins/auth.js';
import { FEATURE_NAMES } from '../../features/feature-schema.js';
import type { LinearExplainer } from '../../contract/model-card.js';
import { linearContributions, occlusionContributions, occlusionRows, type Explanation } from '../model/contributions.js';
import { riskBand } from '../model/risk.js';
import { toInputTensor, type LoadedModel } from '../model/service.js';
import { batchPredictionResponse, singlePredictionResponse } from '../schemas/patient.js';

type PatientBody = Record<string, number | null | undefined>;
type PredictBody = PatientBody | { instances: PatientBody[] };

/** A validated patient → the graph's row layout (schema order, NaN = missing). */
export function patientRow(patient: PatientBody): number[] {
  return FEATURE_NAMES.map((name) => {
    const value = patient[name];
    return typeof value === 'number' ? value : Number.NaN;
  });
}

export interface PredictRoutesOptions {
  logPatientData: boolean;
}

export default async function predictRoutes(app: FastifyInstance, opts: PredictRoutesOptions) {
  /** Explanations for `rows`, computed against the same model that predicted them. */
  async function explain(model: LoadedModel, rows: number[][], probabilities: number[]): Promise<Explanation[]> {
    const explainer = model.card.explainer;
    if (explainer?.kind === 'linear') return rows.map((row) => linearContributions(explainer as LinearExplainer, row));
    // Occlusion: one batch of (1 + 13) rows per patient, so a batch explanation is still a single model run.
    const occluded = rows.flatMap(occlusionRows);
    const run = await app.modelService.predictTensor(toInputTensor(occluded), occluded.length, model);
    const per = FEATURE_NAMES.length + 1;
    return rows.map((row, i) => {
      const probs = run.probabilities.slice(i * per, (i + 1) * per);
      probs[0] = probabilities[i]!;
      return occlusionContributions(row, probs);
    });
  }

  app.post<{ Body: PredictBody; Querystring: { explain?: string } }>(
    '/predict',
    {
      onRequest: [app.jsonApiHeaders, app.requireApiKey],
      helmet: false,
      schema: {
        tags: ['prediction'],
        summary: 'Predict heart disease for one patient or a batch',
        description:
          'Body: one patient object, or `{ "instances": [patient, ...] }` (1 to MAX_BATCH_SIZE). Optional features may be omitted or null ' +
          '(the model imputes them). Risk bands on P(disease): low < 0.2 <= moderate < threshold <= high (the decision threshold of the served model, GET /model). `?explain=true` adds per-feature ' +
          'contributions in log-odds (exact for logistic regression: logit = baselineLogit + sum of contributions; occlusion for the random forest).',
        security: API_KEY_SECURITY,
        querystring: {
          type: 'object',
          properties: { explain: { type: 'string', enum: ['true', 'false', '1', '0'], description: 'Add per-feature contributions.' } },
        },
        body: { if: { type: 'object', required: ['instances'] }, then: { $ref: 'PatientBatch#' }, else: { $ref: 'Patient#' } },
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
      const body = request.body;
      const isBatch = 'instances' in body && Array.isArray(body.instances);
      const patients = isBatch ? (body as { instances: PatientBody[] }).instances : [body as PatientBody];
      const rows = patients.map(patientRow);
      if (opts.logPatientData) request.log.debug({ rows }, 'patient rows (LOG_PATIENT_DATA=true)');

      const model = app.modelService.current;
      const run = await app.modelService.predictTensor(toInputTensor(rows), rows.length, model);
      const explanations =
        request.query.explain === 'true' || request.query.explain === '1' ? await explain(run.model, rows, run.probabilities) : null;

      app.metrics.recordPredictions(run.labels, run.probabilities);
      app.drift.observe(rows);

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
      return isBatch ? { modelVersion: run.model.version, predictions } : { ...predictions[0]!, modelVersion: run.model.version };
    },
  );
}
