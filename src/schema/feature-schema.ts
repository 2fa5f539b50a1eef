import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface CategoryCode {
  code: number;
  label: string;
}

interface FeatureBase {
  name: string;
  /** Value of the documented example patient (Cleveland row 1). */
  example: number;
  label: string;
  description: string;
  required: boolean;
}

export interface NumericFeature extends FeatureBase {
  type: 'numeric';
  integer: boolean;
  unit: string;
  min: number;
  max: number;
}

export interface CategoricalFeature extends FeatureBase {
  type: 'categorical';
  codes: CategoryCode[];
}

export type Feature = NumericFeature | CategoricalFeature;

export interface FeatureSchema {
  version: number;
  missingToken: string;
  features: Feature[];
  target: {
    name: string;
    description: string;
    codes: number[];
    positiveRule: string;
    labels: Record<string, string>;
  };
}

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
  return JSON.parse(readFileSync(file, 'utf8')) as FeatureSchema;
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

/** Why a present value breaks the schema, or null when it is allowed. */
export function ruleViolation(feature: Feature, value: number): string | null {
  if (!Number.isFinite(value)) return 'must be a finite number';
  if (feature.type === 'numeric') {
    if (feature.integer && !Number.isInteger(value)) return 'must be an integer';
    if (value < feature.min || value > feature.max) return `must be between ${feature.min} and ${feature.max} ${feature.unit}`;
    return null;
  }
  if (!feature.codes.some((c) => c.code === value)) {
    return `must be one of ${feature.codes.map((c) => `${c.code} (${c.label})`).join(', ')}`;
  }
  return null;
}
