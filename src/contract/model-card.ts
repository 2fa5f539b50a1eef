/**
 * model.json, the model card: what training writes beside model.onnx and every later stage reads (API, image
 * scripts, deploy checks, the Dagger module, a registry). Its shape is written out here as TypeBox definitions —
 * TypeScript types and JSON Schema in one — and published as model-card.schema.json for other languages.
 * Nothing here is derived from training's own types: training must produce this shape, not the other way round.
 *
 * Compatibility: a consumer accepts exactly CONTRACT_VERSION. Fields may be added within a version (consumers ignore
 * what they do not know); renaming, removing or changing the meaning of a field bumps the version.
 */
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { FeatureSchemaSchema } from '../features/feature-schema.js';
import { CONTRACT_VERSION } from './artifact-contract.js';

const Probability = Type.Number({ minimum: 0, maximum: 1 });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const ModelNameSchema = Type.Union([Type.Literal('logistic_regression'), Type.Literal('random_forest')]);

/** Threshold-free and threshold metrics of one evaluation (hold-out or one CV fold). */
export const ScalarMetricsSchema = Type.Object({
  rocAuc: Type.Number(),
  prAuc: Type.Number(),
  accuracy: Type.Number(),
  precision: Type.Number(),
  recall: Type.Number(),
  f1: Type.Number(),
  brier: Type.Number(),
  logLoss: Type.Number(),
});

export const ConfusionSchema = Type.Object({
  tn: Type.Integer({ minimum: 0 }),
  fp: Type.Integer({ minimum: 0 }),
  fn: Type.Integer({ minimum: 0 }),
  tp: Type.Integer({ minimum: 0 }),
});

export const MetricsSchema = Type.Intersect([ScalarMetricsSchema, Type.Object({ confusion: ConfusionSchema })]);

// --- Missing data, calibration, leave-one-file-out --------------------------------------------------------------

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

/** One bin of a reliability diagram (equal-width bins over [0, 1]; empty bins left out). */
export const CalibrationBinSchema = Type.Object({
  meanPredicted: Probability,
  observedRate: Probability,
  count: Type.Integer({ minimum: 1 }),
});

/** Scores of one calibration method on out-of-fold CV scores it was not fitted on. */
export const CalibrationOutcomeSchema = Type.Object({
  brier: Type.Number({ minimum: 0 }),
  logLoss: Type.Number({ minimum: 0 }),
  meanPredicted: Probability,
  bins: Type.Array(CalibrationBinSchema),
});

/**
 * How a model's probabilities are calibrated and the evidence for it. `platt`: P = sigmoid(slope · score + intercept)
 * where the score is the logit (logistic regression: folded into the graph's coefficients) or the forest's vote share
 * (graph nodes after the forest), fitted on the out-of-fold CV scores of `fittedOnRows` training rows. `evidence`
 * compares none / Platt / isotonic on those scores, each map fitted on k − 1 folds and scored on the k-th.
 */
export const ModelCalibrationSchema = Type.Object({
  method: Type.Union([Type.Literal('platt'), Type.Literal('none')]),
  score: Type.Union([Type.Literal('logit'), Type.Literal('vote share')]),
  platt: Type.Union([Type.Object({ method: Type.Literal('platt'), slope: Type.Number(), intercept: Type.Number() }), Type.Null()]),
  fittedOnRows: Type.Integer({ minimum: 0 }),
  evidence: Type.Object({
    rows: Type.Integer({ minimum: 0 }),
    folds: Type.Integer({ minimum: 2 }),
    observedRate: Probability,
    methods: Type.Object({ none: CalibrationOutcomeSchema, platt: CalibrationOutcomeSchema, isotonic: CalibrationOutcomeSchema }),
  }),
});

/** Missing-indicator rule (a feature missing in >= indicatorMinShare of the training rows gets a 0/1 column; null = none). */
export const MissingDataSchema = Type.Object({
  indicatorMinShare: Type.Union([Probability, Type.Null()]),
  indicators: Type.Array(Type.String(), { description: 'Features with a missing-indicator column in the graph.' }),
});

/** Held-out rows with at least minMissing missing features: mean predicted vs observed (null when there are none). */
export const MissingSubsetSchema = Type.Object({
  minMissing: Type.Integer({ minimum: 1 }),
  rows: Type.Integer({ minimum: 0 }),
  meanPredicted: NullableNumber,
  observedRate: NullableNumber,
});

/** One model scored on a held-out file. rocAuc and calibrationSlope are null when the file holds one class only. */
export const HeldOutMetricsSchema = Type.Object({
  rows: Type.Integer({ minimum: 1 }),
  observedRate: Probability,
  meanPredicted: Probability,
  calibrationInTheLarge: Type.Number({ description: 'mean predicted − observed rate' }),
  calibrationSlope: NullableNumber,
  rocAuc: NullableNumber,
  brier: Type.Number({ minimum: 0 }),
  logLoss: Type.Number({ minimum: 0 }),
  trainBaseRate: Probability,
  baseRateBrier: Type.Number({ minimum: 0, description: 'Brier of always answering trainBaseRate' }),
  bins: Type.Array(CalibrationBinSchema),
  missingSubsets: Type.Array(MissingSubsetSchema),
});

/** Each data file (hospital) held out in turn; the same fit procedure and selection ran on the other files. */
export const LeaveOneFileOutSchema = Type.Object({
  folds: Type.Array(
    Type.Object({
      heldOut: Type.String(),
      trainFiles: Type.Array(Type.String()),
      trainRows: Type.Integer({ minimum: 1 }),
      selectedModel: Type.String(),
      models: Type.Record(Type.String(), HeldOutMetricsSchema),
    }),
  ),
  mean: Type.Object({
    rocAuc: NullableNumber,
    brier: Type.Number(),
    logLoss: Type.Number(),
    baseRateBrier: Type.Number(),
    absCalibrationInTheLarge: Type.Number(),
  }),
});

// -------------------------------------------------------------------------------------------------------------------

export const ModelSummarySchema = Type.Object({
  hyperParameters: Type.Record(Type.String(), Type.Unknown()),
  cv: Type.Object({ folds: Type.Array(MetricsSchema), mean: ScalarMetricsSchema, std: ScalarMetricsSchema }),
  holdout: MetricsSchema,
  importance: Type.Array(Type.Object({ feature: Type.String(), importance: Type.Number() })),
  convergence: Type.Optional(Type.Object({ iterations: Type.Integer(), converged: Type.Boolean() })),
  calibration: Type.Optional(ModelCalibrationSchema),
});

/** Training distribution of one numeric feature: quantile bins (interior edges), shares, 101 quantiles for KS. */
export const NumericReferenceSchema = Type.Object({
  kind: Type.Literal('numeric'),
  edges: Type.Array(Type.Number()),
  proportions: Type.Array(Probability),
  quantiles: Type.Array(Type.Number()),
  missingProportion: Probability,
  count: Type.Integer({ minimum: 0 }),
});

/** Training distribution of one categorical feature: share per allowed code. */
export const CategoricalReferenceSchema = Type.Object({
  kind: Type.Literal('categorical'),
  codes: Type.Array(Type.Integer()),
  proportions: Type.Array(Probability),
  missingProportion: Probability,
  count: Type.Integer({ minimum: 0 }),
});

export const FeatureReferenceSchema = Type.Union([NumericReferenceSchema, CategoricalReferenceSchema]);

/**
 * Exact additive explanation of a logistic regression:
 *   logit = baselineLogit + Σ_features contribution(feature)
 *   contribution(feature) = Σ over its design columns k of weight_k · (x_k − trainingMean_k)
 * where x_k is the standardised numeric ((value − mean) / std), the one-hot indicator (value == code), or the
 * missing indicator (1 when the feature was not sent, else 0), with a missing value replaced by
 * imputeValues[feature] exactly as the graph does. The weights already include the calibration (Platt folded in).
 */
export const LinearExplainerSchema = Type.Object({
  kind: Type.Literal('linear'),
  intercept: Type.Number(),
  baselineLogit: Type.Number(),
  imputeValues: Type.Record(Type.String(), Type.Number()),
  terms: Type.Array(
    Type.Union([
      Type.Object({
        feature: Type.String(),
        kind: Type.Literal('numeric'),
        mean: Type.Number(),
        std: Type.Number(),
        weight: Type.Number(),
        trainingMean: Type.Number(),
      }),
      Type.Object({
        feature: Type.String(),
        kind: Type.Literal('one-hot'),
        code: Type.Number(),
        weight: Type.Number(),
        trainingMean: Type.Number(),
      }),
      Type.Object({
        feature: Type.String(),
        kind: Type.Literal('missing'),
        weight: Type.Number(),
        trainingMean: Type.Number(),
      }),
    ]),
  ),
});

/** No closed form (random forest): contributions come from occlusion (each feature set missing in turn). */
export const OcclusionExplainerSchema = Type.Object({ kind: Type.Literal('occlusion') });

export const DataQualitySchema = Type.Object({
  rows: Type.Integer({ minimum: 0 }),
  files: Type.Array(Type.Object({ file: Type.String(), rows: Type.Integer({ minimum: 0 }) })),
  missing: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  outOfRange: Type.Object({
    count: Type.Integer({ minimum: 0 }),
    byFeature: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
    examples: Type.Array(
      Type.Object({ file: Type.String(), line: Type.Integer(), feature: Type.String(), value: Type.Number(), rule: Type.String() }),
    ),
  }),
  classBalance: Type.Object({ negative: Type.Integer(), positive: Type.Integer(), positiveShare: Probability }),
  targetCodes: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
});

export const ModelCardSchema = Type.Object(
  {
    contractVersion: Type.Literal(CONTRACT_VERSION, { description: 'Version of the artifact contract this card follows.' }),
    modelVersion: Type.String({ minLength: 1, description: '<package version>-<lr|rf>-<first 12 hex of the ONNX sha256>' }),
    createdAt: Type.String({ minLength: 1 }),
    gitCommit: Type.Union([Type.String(), Type.Null()]),
    producerVersion: Type.String(),
    data: Type.Object({
      files: Type.Array(Type.Object({ path: Type.String(), sha256: Sha256, rows: Type.Integer(), bytes: Type.Integer() })),
      quality: DataQualitySchema,
    }),
    schema: FeatureSchemaSchema,
    selectedModel: ModelNameSchema,
    selection: Type.Object({ metric: Type.Literal('cv.rocAuc'), minAuc: Probability, gatePassed: Type.Boolean() }),
    threshold: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description: 'Decision threshold: label 1 when P(disease) >= threshold.',
    }),
    onnx: Type.Object({
      file: Type.String(),
      sha256: Sha256,
      bytes: Type.Integer({ minimum: 1 }),
      input: Type.String(),
      outputs: Type.Array(Type.String()),
      parityMaxAbsDiff: Type.Number({ minimum: 0 }),
    }),
    models: Type.Record(Type.String(), ModelSummarySchema),
    missingData: Type.Optional(MissingDataSchema),
    leaveOneFileOut: Type.Optional(Type.Union([LeaveOneFileOutSchema, Type.Null()], { description: 'null with a single data file' })),
    reference: Type.Record(Type.String(), FeatureReferenceSchema),
    explainer: Type.Union([LinearExplainerSchema, OcclusionExplainerSchema]),
    split: Type.Object({
      seed: Type.Integer({ minimum: 0 }),
      folds: Type.Integer({ minimum: 2 }),
      holdoutFraction: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
      trainRows: Type.Integer({ minimum: 0 }),
      holdoutRows: Type.Array(Type.Integer({ minimum: 0 })),
    }),
  },
  {
    $id: 'https://heart-disease-mlops.dev/contract/model-card.schema.json',
    title: 'heart-disease-mlops model card (model.json)',
  },
);

export type ModelName = Static<typeof ModelNameSchema>;
export type ScalarMetrics = Static<typeof ScalarMetricsSchema>;
export type Metrics = Static<typeof MetricsSchema>;
export type ModelSummary = Static<typeof ModelSummarySchema>;
export type NumericReference = Static<typeof NumericReferenceSchema>;
export type CategoricalReference = Static<typeof CategoricalReferenceSchema>;
export type FeatureReference = Static<typeof FeatureReferenceSchema>;
export type LinearExplainer = Static<typeof LinearExplainerSchema>;
export type DataQuality = Static<typeof DataQualitySchema>;
export type ModelCard = Static<typeof ModelCardSchema>;
export type ModelCalibration = Static<typeof ModelCalibrationSchema>;
export type MissingData = Static<typeof MissingDataSchema>;
export type HeldOutMetrics = Static<typeof HeldOutMetricsSchema>;
export type LeaveOneFileOut = Static<typeof LeaveOneFileOutSchema>;

export class ModelCardError extends Error {
  override name = 'ModelCardError';
}

const validator = Compile(ModelCardSchema);
const MAX_REPORTED_ERRORS = 3;

/**
 * A parsed model.json checked against this contract: the version first (so an old or future card gets a message
 * about versions, not about fields), then the shape. Throws ModelCardError saying what is wrong and where.
 */
export function parseModelCard(value: unknown, source = 'model.json'): ModelCard {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelCardError(`${source} is not a JSON object`);
  const version = (value as { contractVersion?: unknown }).contractVersion;
  if (version !== CONTRACT_VERSION) {
    const written =
      version === undefined
        ? 'has no contractVersion (written before the artifact contract was versioned)'
        : `follows contract version ${JSON.stringify(version)}`;
    const advice =
      typeof version === 'number' && version > CONTRACT_VERSION
        ? 'this program is older than the model: upgrade it'
        : 'retrain the model with this version of the project';
    throw new ModelCardError(`${source} ${written}; this program reads contract version ${CONTRACT_VERSION} only: ${advice}`);
  }
  if (!validator.Check(value)) {
    const errors = validator.Errors(value);
    const shown = errors
      .slice(0, MAX_REPORTED_ERRORS)
      .map((e) => `${e.instancePath || '(root)'} ${e.message}`)
      .join('; ');
    const more = errors.length > MAX_REPORTED_ERRORS ? `; and ${errors.length - MAX_REPORTED_ERRORS} more` : '';
    throw new ModelCardError(`${source} does not match the model card contract: ${shown}${more}`);
  }
  return value;
}
