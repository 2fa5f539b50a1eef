/**
 * JSON schemas of the prediction API, generated from the feature schema (data/feature-schema.json) so validation,
 * OpenAPI docs and the model can never disagree on names, types, ranges or codes.
 */
import { EXAMPLE_PATIENT, FEATURES, allowedValues, type Feature } from '../../features/feature-schema.js';
import { MOSTLY_MISSING_MIN_IMPUTED } from '../../contract/artifact-contract.js';
import { RISK_BAND_NAMES, RISK_BANDS_TEXT } from '../model/risk.js';

function featureProperty(feature: Feature): Record<string, unknown> {
  const nullable = !feature.required;
  const description = `${feature.description}. ${allowedValues(feature)}${nullable ? '; optional: omit or null when unknown (the model imputes it)' : ''}.`;
  if (feature.type === 'numeric') {
    const type = feature.integer ? 'integer' : 'number';
    return {
      type: nullable ? [type, 'null'] : type,
      minimum: feature.min,
      maximum: feature.max,
      description,
    };
  }
  const codes = feature.codes.map((c) => c.code);
  return { type: nullable ? ['integer', 'null'] : 'integer', enum: nullable ? [...codes, null] : codes, description };
}

export const patientSchema = {
  $id: 'Patient',
  type: 'object',
  description: 'One patient: the 13 UCI heart-disease features. Unknown fields are rejected.',
  additionalProperties: false,
  required: FEATURES.filter((f) => f.required).map((f) => f.name),
  properties: Object.fromEntries(FEATURES.map((f) => [f.name, featureProperty(f)])),
  examples: [EXAMPLE_PATIENT],
} as const;

export function batchSchema(maxBatchSize: number) {
  return {
    $id: 'PatientBatch',
    type: 'object',
    description: `A batch of 1 to ${maxBatchSize} patients, predicted in one model run.`,
    additionalProperties: false,
    required: ['instances'],
    properties: {
      instances: { type: 'array', minItems: 1, maxItems: maxBatchSize, items: { $ref: 'Patient#' } },
    },
  } as const;
}

export const contributionSchema = {
  type: 'object',
  properties: {
    feature: { type: 'string' },
    value: { type: ['number', 'null'] },
    contribution: { type: 'number', description: 'Push on the log-odds of disease (positive = towards disease).' },
  },
} as const;

const predictionProperties = {
  predictionId: {
    type: 'string',
    format: 'uuid',
    description: 'Id of this prediction in the prediction log (UUIDv7), for POST /feedback; absent when PREDICTION_LOG=off.',
  },
  label: {
    type: 'integer',
    enum: [0, 1],
    description: "1 = disease predicted: probability >= the model's decision threshold (GET /model).",
  },
  probability: { type: 'number', minimum: 0, maximum: 1, description: 'P(disease).' },
  riskBand: {
    type: 'string',
    enum: [...RISK_BAND_NAMES],
    description: RISK_BANDS_TEXT,
  },
  imputed: {
    type: 'array',
    items: { type: 'string', enum: FEATURES.map((f) => f.name) },
    description: 'Features that were not measured (omitted or null): the model filled them in, so they say nothing about this patient.',
  },
  mostlyMissing: {
    type: 'boolean',
    description: `True when ${MOSTLY_MISSING_MIN_IMPUTED} or more features were not measured: the estimate rests mostly on imputed values and is unreliable.`,
  },
  explanation: { type: 'string', enum: ['linear', 'occlusion'], description: 'How contributions were computed (?explain=true).' },
  logit: { type: 'number', description: 'Log-odds of disease (?explain=true).' },
  baselineLogit: {
    type: 'number',
    description: 'linear: log-odds of the average training patient; logit = baselineLogit + Σ contributions.',
  },
  contributions: { type: 'array', items: contributionSchema, description: 'Per-feature contributions, largest |contribution| first.' },
} as const;

export const predictionSchema = {
  $id: 'Prediction',
  type: 'object',
  required: ['label', 'probability', 'riskBand', 'imputed', 'mostlyMissing'],
  properties: predictionProperties,
} as const;

export const singlePredictionResponse = {
  type: 'object',
  required: ['label', 'probability', 'riskBand', 'imputed', 'mostlyMissing', 'modelVersion'],
  properties: { ...predictionProperties, modelVersion: { type: 'string' } },
} as const;

export const batchPredictionResponse = {
  type: 'object',
  required: ['modelVersion', 'predictions'],
  properties: { modelVersion: { type: 'string' }, predictions: { type: 'array', items: { $ref: 'Prediction#' } } },
} as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    details: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          field: { type: 'string', description: "The offending field, e.g. 'age' or 'instances[3].chol'." },
          rule: { type: 'string', description: 'The rule it breaks.' },
          allowed: { type: 'string', description: 'The values the field accepts.' },
        },
      },
    },
    omittedDetails: { type: 'integer', description: 'Problems found beyond the details listed (MAX_ERROR_DETAILS).' },
  },
} as const;
