/**
 * POST /feedback (outcomes of logged predictions) and GET /performance (live metrics over labelled predictions).
 * Both answer 503 when the prediction log is off (PREDICTION_LOG=off) or its store cannot be reached.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { readFeedbackBody } from '../../outcomes/feedback-request.js';
import type { PredictionLog } from '../../outcomes/log.js';
import { performanceReport, trainingAuc, type PerformanceReport, type PerformanceWindows } from '../../outcomes/monitor.js';
import { RELIABILITY_BINS } from '../../outcomes/performance.js';
import { predictionIdTime } from '../../outcomes/prediction-records.js';
import type { FeedbackResult, FeedbackStatus, OutcomeFeedback } from '../../outcomes/store.js';
import { API_KEY_SECURITY } from '../plugins/auth.js';
import type { LoadedModel } from '../model/service.js';

export interface OutcomeRoutesOptions {
  maxBatchSize: number;
  maxErrorDetails: number;
  secured: boolean;
  windows: PerformanceWindows;
}

class LogUnavailableError extends Error {
  readonly statusCode = 503;
}

const FEEDBACK_STATUSES: readonly FeedbackStatus[] = ['recorded', 'unchanged', 'conflict', 'not_found'];
const outcome = { type: 'integer', enum: [0, 1], description: '0 = no heart disease, 1 = heart disease (as the UCI target: num > 0)' };
const predictionId = { type: 'string', format: 'uuid', description: 'The `predictionId` a prediction returned' };

const feedbackItem = {
  type: 'object',
  additionalProperties: false,
  required: ['predictionId', 'outcome'],
  properties: {
    predictionId,
    outcome,
    observedAt: {
      type: 'string',
      format: 'date-time',
      description: 'When the outcome was observed (RFC 3339 with a time zone); default: when the feedback arrives',
    },
  },
} as const;

const feedbackResult = {
  type: 'object',
  required: ['predictionId', 'status'],
  properties: {
    predictionId: { type: 'string' },
    status: {
      type: 'string',
      enum: [...FEEDBACK_STATUSES],
      description:
        'recorded: stored now; unchanged: the same outcome was already stored (a repeat is accepted, the first observedAt kept); ' +
        'conflict: a different outcome is stored, nothing changed; not_found: no logged prediction has this id',
    },
    storedOutcome: { ...outcome, description: 'The outcome stored for this prediction (absent when not_found)' },
  },
} as const;

const singleFeedbackResponse = {
  type: 'object',
  required: ['predictionId', 'status', 'outcome'],
  properties: { predictionId: { type: 'string' }, status: { type: 'string', enum: ['recorded', 'unchanged'] }, outcome },
} as const;

const batchFeedbackResponse = {
  type: 'object',
  required: ['results', 'counts'],
  properties: {
    results: { type: 'array', items: feedbackResult, description: 'One result per item, in the order sent' },
    counts: {
      type: 'object',
      required: [...FEEDBACK_STATUSES],
      properties: Object.fromEntries(FEEDBACK_STATUSES.map((s) => [s, { type: 'integer' }])),
    },
  },
} as const;

const nullableNumber = { type: ['number', 'null'] } as const;
const windowSchema = {
  type: 'object',
  required: [
    'count',
    'positives',
    'sufficient',
    'note',
    'rocAuc',
    'brier',
    'logLoss',
    'meanPredicted',
    'observedRate',
    'calibrationInTheLarge',
    'reliability',
  ],
  properties: {
    count: { type: 'integer', description: 'Labelled predictions in the window' },
    positives: { type: 'integer', description: 'Of which outcome 1' },
    sufficient: { type: 'boolean', description: 'False below PERFORMANCE_MIN_COUNT: every metric is then null' },
    note: { type: ['string', 'null'], description: 'Why a metric is missing' },
    rocAuc: nullableNumber,
    brier: nullableNumber,
    logLoss: nullableNumber,
    meanPredicted: nullableNumber,
    observedRate: nullableNumber,
    calibrationInTheLarge: { type: ['number', 'null'], description: 'observedRate − meanPredicted' },
    reliability: {
      type: 'array',
      description: `Reliability table: ${RELIABILITY_BINS} equal-width probability bins (empty bins left out)`,
      items: {
        type: 'object',
        properties: {
          from: { type: 'number' },
          to: { type: 'number' },
          count: { type: 'integer' },
          meanPredicted: { type: 'number' },
          observedRate: { type: 'number' },
        },
      },
    },
  },
} as const;

const performanceSchema = {
  type: 'object',
  required: ['generatedAt', 'windows', 'servingVersion', 'models'],
  properties: {
    generatedAt: { type: 'string' },
    windows: {
      type: 'object',
      properties: { windowCount: { type: 'integer' }, windowDays: { type: 'integer' }, minCount: { type: 'integer' } },
    },
    servingVersion: { type: ['string', 'null'] },
    models: {
      type: 'array',
      items: {
        type: 'object',
        required: ['modelVersion', 'serving', 'trainingAuc', 'byCount', 'byTime'],
        properties: {
          modelVersion: { type: 'string' },
          serving: { type: 'boolean' },
          trainingAuc: {
            type: ['object', 'null'],
            description: "The serving model's cross-validation ROC-AUC: mean, std and lowerBound = mean − 2·std",
            properties: { mean: { type: 'number' }, std: { type: 'number' }, lowerBound: { type: 'number' } },
          },
          byCount: { ...windowSchema, description: 'The most recent PERFORMANCE_WINDOW_COUNT labelled predictions' },
          byTime: {
            ...windowSchema,
            required: [...windowSchema.required, 'since'],
            properties: { ...windowSchema.properties, since: { type: 'string' } },
            description: 'Predictions whose outcome was observed in the last PERFORMANCE_WINDOW_DAYS days',
          },
        },
      },
    },
  },
} as const;

/** The serving model's version and training AUC bounds, from its card. */
export function servingModel(model: LoadedModel | null) {
  if (!model) return null;
  const summary = model.card.models[model.card.selectedModel];
  return { version: model.version, trainingAuc: trainingAuc(summary?.cv.mean.rocAuc, summary?.cv.std.rocAuc) };
}

/**
 * How long after its flush interval another replica's batch may take to reach the shared store (a PostgreSQL write of
 * a batch, under load).
 */
export const OTHER_REPLICA_WRITE_GRACE_MS = 1000;

/**
 * Record outcomes; ids not found while predictions may still be queued are asked for again, so feedback for a
 * prediction made a moment ago is never refused because its batch was not written yet: first after this replica's
 * flush; then, for ids another replica made (sharing the store) that recently, once that replica's flush interval and
 * a write have passed since the id's time (a UUIDv7 says when it was made). An unknown id waits at most that long.
 */
async function recordOutcomes(log: PredictionLog, items: readonly OutcomeFeedback[]): Promise<FeedbackResult[]> {
  const results = await log.store.recordOutcomes(items);
  // Ids still queued here, or in a write under way (even one that ends before this line), are in the store once the
  // flush resolves.
  await retryNotFound(log, items, results, () => log.flush());
  const window = log.flushMs + OTHER_REPLICA_WRITE_GRACE_MS;
  let writtenBy = 0;
  results.forEach((r, i) => {
    const made = r.status === 'not_found' ? predictionIdTime(items[i]!.predictionId) : null;
    if (made !== null) writtenBy = Math.max(writtenBy, made + window);
  });
  const wait = writtenBy - Date.now();
  if (wait > 0) await retryNotFound(log, items, results, () => sleep(Math.min(wait, window)));
  return results;
}

/** After `settle`, ask again for the items whose ids were not found; their results are replaced in place. */
async function retryNotFound(
  log: PredictionLog,
  items: readonly OutcomeFeedback[],
  results: FeedbackResult[],
  settle: () => Promise<void>,
): Promise<void> {
  const missing = results.flatMap((r, i) => (r.status === 'not_found' ? [i] : []));
  if (missing.length === 0) return;
  await settle();
  const retried = await log.store.recordOutcomes(missing.map((i) => items[i]!));
  missing.forEach((i, k) => (results[i] = retried[k]!));
}

export default async function outcomeRoutes(app: FastifyInstance, opts: OutcomeRoutesOptions) {
  const log = (): PredictionLog => {
    if (!app.predictionLog) throw new LogUnavailableError('the prediction log is off (PREDICTION_LOG=off): no outcomes are kept');
    return app.predictionLog;
  };
  const unavailable = (error: unknown): never => {
    app.metrics.recordStoreFailure('read');
    app.log.error({ error: (error as Error).message }, 'prediction store failed');
    throw new LogUnavailableError('the prediction log cannot be reached; try again later');
  };

  app.post<{ Body: unknown }>(
    '/feedback',
    {
      onRequest: app.requireApiKey,
      config: { securityHeaders: 'json-api' },
      // Read by readFeedbackBody (every problem named by field and rule); the schema below is the published contract.
      validatorCompiler: () => () => true,
      schema: {
        tags: ['outcomes'],
        summary: 'Record how predictions turned out (one, or a batch of up to MAX_BATCH_SIZE)',
        description:
          'Body: `{ predictionId, outcome, observedAt? }` or `{ "outcomes": [...] }`. One item: 200 when recorded or when the same ' +
          'outcome was already recorded (a repeat is accepted), 409 when a different outcome was, 404 when no logged prediction ' +
          'has the id. A batch: 200 with a result per item (recorded, unchanged, conflict, not_found) and their counts; the ' +
          'recorded items are stored, the others change nothing.',
        ...(opts.secured && { security: API_KEY_SECURITY }),
        body: {
          oneOf: [
            feedbackItem,
            {
              type: 'object',
              additionalProperties: false,
              required: ['outcomes'],
              properties: { outcomes: { type: 'array', minItems: 1, maxItems: opts.maxBatchSize, items: feedbackItem } },
            },
          ],
        },
        response: {
          200: { anyOf: [singleFeedbackResponse, batchFeedbackResponse] },
          400: { $ref: 'Error#' },
          401: { $ref: 'Error#' },
          404: { $ref: 'Error#' },
          409: { $ref: 'Error#' },
          413: { $ref: 'Error#' },
          415: { $ref: 'Error#' },
          503: { $ref: 'Error#' },
        },
      },
    },
    async (request, reply: FastifyReply) => {
      const { items, batch } = readFeedbackBody(request.body, opts.maxBatchSize, opts.maxErrorDetails);
      const target = log();
      const started = performance.now();
      const results = await recordOutcomes(target, items).catch(unavailable);
      app.metrics.recordFeedback(
        results.map((r) => r.status),
        (performance.now() - started) / 1000,
      );
      if (batch) {
        const counts = Object.fromEntries(FEEDBACK_STATUSES.map((s) => [s, 0])) as Record<FeedbackStatus, number>;
        for (const r of results) counts[r.status]++;
        return { results, counts };
      }
      const [result] = results;
      const item = items[0]!;
      if (result!.status === 'not_found') {
        return reply.code(404).send({
          error: 'Not Found',
          message: `no logged prediction has id ${item.predictionId}`,
          details: [{ field: 'predictionId', rule: 'must be the predictionId of a logged prediction' }],
        });
      }
      if (result!.status === 'conflict') {
        return reply.code(409).send({
          error: 'Conflict',
          message: `prediction ${item.predictionId} already has outcome ${result!.storedOutcome}; a different outcome is refused`,
          details: [{ field: 'outcome', rule: `must equal the outcome already recorded (${result!.storedOutcome})` }],
        });
      }
      return { predictionId: item.predictionId, status: result!.status, outcome: item.outcome };
    },
  );

  app.get(
    '/performance',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Live performance per model version over labelled predictions (ROC-AUC, Brier, log loss, calibration, reliability)',
        description:
          'Two sliding windows per model version: the most recent PERFORMANCE_WINDOW_COUNT labelled predictions, and those whose ' +
          'outcome was observed in the last PERFORMANCE_WINDOW_DAYS days. Below PERFORMANCE_MIN_COUNT a window gives its count and ' +
          'a note, no metric.',
        response: { 200: performanceSchema, 503: { $ref: 'Error#' } },
      },
    },
    async (): Promise<PerformanceReport> =>
      performanceReport(log().store, opts.windows, servingModel(app.modelService.current)).catch(unavailable),
  );
}
