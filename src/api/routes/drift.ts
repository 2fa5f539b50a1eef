import type { FastifyInstance } from 'fastify';
import type { DriftMonitor } from '../../drift/monitor.js';
import type { RefusalStatus } from '../dataplane/refusal-monitor.js';
import { FEATURE_NAMES } from '../../features/feature-schema.js';

export interface DriftRoutesOptions {
  /** The monitor of the model being served; a getter because a model reload replaces it. */
  getMonitor: () => DriftMonitor;
  /** Refused traffic over the most recent rows. */
  refusals: () => RefusalStatus;
}

const level = { type: 'string', enum: ['ok', 'warning', 'drift'] } as const;

const refusalsSchema = {
  type: 'object',
  required: ['windowRows', 'refusedRows', 'refusedShare', 'mostlyRefused', 'byField', 'totalRefusedRows'],
  description: 'Rows refused by input validation among the most recent DRIFT_WINDOW_SIZE rows (accepted and refused)',
  properties: {
    windowRows: { type: 'integer' },
    refusedRows: { type: 'integer' },
    refusedShare: { type: 'number' },
    mostlyRefused: { type: 'boolean', description: 'More than half of at least minSamples recent rows were refused' },
    byField: {
      type: 'object',
      description: 'Refused rows per field and rule, e.g. { "chol": { "minimum": 412 } }',
      additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
    },
    totalRefusedRows: { type: 'integer', description: 'Rows refused since the server started' },
  },
} as const;

const featureDrift = {
  type: 'object',
  required: ['psi', 'psiCritical', 'missingShare', 'referenceMissingShare', 'status'],
  properties: {
    psi: { type: 'number', description: 'Population stability index of the window against training (missing values are their own bin)' },
    psiCritical: {
      type: ['number', 'null'],
      description: 'PSI that sampling noise alone exceeds with probability alpha for this window size; bands count only above it',
    },
    ks: { type: 'number', description: 'Kolmogorov–Smirnov distance to the training CDF (numeric features only)' },
    ksCritical: { type: 'number', description: 'Two-sample KS critical value at ksAlpha for this window size' },
    missingShare: { type: 'number', description: 'Share of window rows where the feature is missing' },
    referenceMissingShare: { type: 'number', description: 'Share of training rows where the feature is missing' },
    status: level,
  },
} as const;

const driftStatusSchema = {
  type: 'object',
  required: ['status', 'features', 'windowSize', 'sampleCount', 'minSamples', 'insufficientData', 'thresholds', 'refusals'],
  properties: {
    status: {
      type: 'string',
      enum: ['ok', 'warning', 'drift', 'refused'],
      description:
        'refused when most recent traffic was refused (see refusals); otherwise the worst feature status, ok while the window holds ' +
        'fewer than minSamples rows',
    },
    refusals: refusalsSchema,
    features: {
      type: 'object',
      required: [...FEATURE_NAMES],
      properties: Object.fromEntries(FEATURE_NAMES.map((name) => [name, featureDrift])),
    },
    windowSize: { type: 'integer', description: 'Capacity of the sliding window (most recent rows)' },
    sampleCount: { type: 'integer', description: 'Rows currently in the window' },
    minSamples: { type: 'integer' },
    insufficientData: { type: 'boolean', description: 'True while sampleCount < minSamples (status is then ok)' },
    thresholds: {
      type: 'object',
      properties: {
        psiWarning: { type: 'number' },
        psiDrift: { type: 'number' },
        alpha: { type: 'number', description: 'Significance level of the PSI noise gate (chi-square)' },
        ksAlpha: { type: 'number' },
        pseudoCount: { type: 'number', description: 'Added to every non-empty bin on both sides (empty-bin smoothing)' },
        minSamples: { type: 'integer' },
      },
    },
  },
} as const;

/** GET /drift/status: the drift of recent inputs against the training distributions in model.json. */
export default async function driftRoutes(app: FastifyInstance, opts: DriftRoutesOptions) {
  app.get(
    '/drift/status',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Input drift of the recent-request window against the training data (PSI per feature, KS for numerics)',
        description:
          'PSI bands: < 0.1 ok, 0.1–0.25 warning, > 0.25 drift, counted only when PSI is beyond sampling noise ' +
          '(chi-square at alpha). A significant KS alone gives warning. Overall status = worst feature, once the window ' +
          'holds minSamples rows.',
        response: { 200: driftStatusSchema },
      },
    },
    async () => {
      const drift = opts.getMonitor().status();
      const refusals = opts.refusals();
      // Refused rows never reach the drift window: without this, a source whose every row is refused reads `ok`.
      return { ...drift, status: refusals.mostlyRefused ? 'refused' : drift.status, refusals };
    },
  );
}
