import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * The 13 features' schema (data/feature-schema.json), typed. The TypeBox definitions below are both the TypeScript
 * types and the JSON Schema the file is checked against when read, and model.json embeds the same shape.
 */
export const CategoryCodeSchema = Type.Object({ code: Type.Integer(), label: Type.String() });

const featureBase = {
  name: Type.String({ pattern: '^[a-z][a-z0-9_]*$' }),
  /** Value of the documented example patient (Cleveland row 1). */
  example: Type.Number(),
  label: Type.String(),
  description: Type.String(),
  required: Type.Boolean(),
};

export const NumericFeatureSchema = Type.Object({
  ...featureBase,
  type: Type.Literal('numeric'),
  integer: Type.Boolean(),
  unit: Type.String(),
  min: Type.Number(),
  max: Type.Number(),
});

export const CategoricalFeatureSchema = Type.Object({
  ...featureBase,
  type: Type.Literal('categorical'),
  codes: Type.Array(CategoryCodeSchema, { minItems: 1 }),
});

export const FeatureSchemaSchema = Type.Object({
  version: Type.Integer(),
  missingToken: Type.String(),
  features: Type.Array(Type.Union([NumericFeatureSchema, CategoricalFeatureSchema]), { minItems: 1 }),
  target: Type.Object({
    name: Type.String(),
    description: Type.String(),
    codes: Type.Array(Type.Integer()),
    positiveRule: Type.String(),
    labels: Type.Record(Type.String(), Type.String()),
  }),
});

export type CategoryCode = Static<typeof CategoryCodeSchema>;
export type NumericFeature = Static<typeof NumericFeatureSchema>;
export type CategoricalFeature = Static<typeof CategoricalFeatureSchema>;
export type Feature = NumericFeature | CategoricalFeature;
export type FeatureSchema = Static<typeof FeatureSchemaSchema>;

/** Path of the schema file; resolved from this module so it works from src/ (tsx) and dist/ (compiled). */
export function featureSchemaPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../data/feature-schema.json'), path.resolve(here, '../../../data/feature-schema.json')];
  for (const candidate of candidates) {
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // try the next layout
    }
  }
  throw new Error(`feature schema not found; looked in ${candidates.join(', ')}`);
}

export function loadFeatureSchema(file = featureSchemaPath()): FeatureSchema {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const validator = Compile(FeatureSchemaSchema);
  if (!validator.Check(parsed)) {
    const first = validator.Errors(parsed)[0];
    throw new Error(`${file}: not a feature schema: ${first ? `${first.instancePath || '(root)'} ${first.message}` : 'invalid'}`);
  }
  return parsed;
}

/** The schema every module uses; read once. */
export const FEATURE_SCHEMA: FeatureSchema = loadFeatureSchema();
export const FEATURES: readonly Feature[] = FEATURE_SCHEMA.features;
export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);
/** The example patient of docs, the quick start and tests, in API form. */
export const EXAMPLE_PATIENT: Readonly<Record<string, number>> = Object.fromEntries(FEATURES.map((f) => [f.name, f.example]));

/** Binary target from the UCI `num` column (0 = no disease, 1-4 = disease). */
export function targetFromNum(num: number): 0 | 1 {
  return num > 0 ? 1 : 0;
}

/** Human-readable values a feature accepts (docs, API error details, training reports). */
export function allowedValues(feature: Feature): string {
  if (feature.type === 'numeric') {
    return `${feature.integer ? 'integer' : 'number'} from ${feature.min} to ${feature.max} (${feature.unit})`;
  }
  return `one of ${feature.codes.map((c) => `${c.code} (${c.label})`).join(', ')}`;
}

/** Which rule of the schema a value breaks: a small closed set, usable as a metric label. */
export type RuleKind = 'required' | 'type' | 'minimum' | 'maximum' | 'integer' | 'code';

export interface RuleBreak {
  kind: RuleKind;
  /** What the value must be, e.g. 'must be <= 700'. */
  rule: string;
  /** The values the feature accepts (allowedValues). */
  allowed: string;
}

/**
 * Why a value breaks the feature's rules, or null when it is allowed. The one place that decides a feature value:
 * `undefined`/`null` is missing (allowed unless required); anything else must be a number (an integer for integer
 * features and codes), within [min, max], or one of the codes. Non-finite numbers (a JSON 1e400) fail the range.
 */
export function valueProblem(feature: Feature, value: unknown): RuleBreak | null {
  if (value === undefined || value === null) return feature.required ? broken(feature, 'required') : null;
  if (typeof value !== 'number') return broken(feature, 'type');
  if (feature.type === 'numeric') {
    if (!(value >= feature.min)) return broken(feature, 'minimum');
    if (!(value <= feature.max)) return broken(feature, 'maximum');
    if (feature.integer && !Number.isInteger(value)) return broken(feature, 'integer');
    return null;
  }
  for (const c of feature.codes) if (c.code === value) return null;
  return broken(feature, 'code');
}

/** The text of each rule of a feature. */
function ruleText(feature: Feature, kind: RuleKind): string {
  const integer = feature.type === 'categorical' || feature.integer;
  switch (kind) {
    case 'required':
      return 'required: must be present and not null';
    case 'type':
      return `must be ${integer ? 'an integer' : 'a number'}${feature.required ? '' : ' or null'}`;
    case 'minimum':
      return `must be >= ${(feature as NumericFeature).min}`;
    case 'maximum':
      return `must be <= ${(feature as NumericFeature).max}`;
    case 'integer':
      return 'must be an integer';
    case 'code':
      return 'must be one of the allowed values';
  }
}

/** A feature's rule breaks never change: built once each, so refusing many values allocates nothing. */
const brokenCache = new WeakMap<Feature, Partial<Record<RuleKind, RuleBreak>>>();

function broken(feature: Feature, kind: RuleKind): RuleBreak {
  let byKind = brokenCache.get(feature);
  if (!byKind) brokenCache.set(feature, (byKind = {}));
  return (byKind[kind] ??= Object.freeze({ kind, rule: ruleText(feature, kind), allowed: allowedValues(feature) }));
}
