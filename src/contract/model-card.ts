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

export const ModelSummarySchema = Type.Object({
  hyperParameters: Type.Record(Type.String(), Type.Unknown()),
  cv: Type.Object({ folds: Type.Array(MetricsSchema), mean: ScalarMetricsSchema, std: ScalarMetricsSchema }),
  holdout: MetricsSchema,
  importance: Type.Array(Type.Object({ feature: Type.String(), importance: Type.Number() })),
  convergence: Type.Optional(Type.Object({ iterations: Type.Integer(), converged: Type.Boolean() })),
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
 * where x_k is the standardised numeric ((value − mean) / std) or the one-hot indicator (value == code), with a
 * missing value replaced by imputeValues[feature] exactly as the graph does.
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
