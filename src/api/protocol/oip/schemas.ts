/** JSON Schemas of the Open Inference Protocol REST routes (request validation and the published OpenAPI document). */
import { FEATURE_COUNT } from '../../model/service.js';
import { INPUT_NAME } from './tensor.js';

export const tags = ['kserve-v2'];

export const tensorMetadata = {
  type: 'object',
  properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
} as const;

export const v2Error = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } } as const;

export const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string' }, version: { type: 'string' } },
} as const;

const parameters = { type: 'object', additionalProperties: true } as const;

export const inferRequestSchema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string' },
    parameters,
    inputs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype', 'data'],
        properties: {
          name: { type: 'string' },
          shape: { type: 'array', items: { type: 'integer', minimum: 0 }, maxItems: 8 },
          datatype: { type: 'string' },
          parameters,
          data: { type: 'array', description: `row-major, flat or nested; null = missing feature (imputed)` },
        },
      },
    },
    outputs: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, parameters } } },
  },
} as const;

export const serverMetadataResponse = {
  type: 'object',
  properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
} as const;

export const modelMetadataResponse = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    versions: { type: 'array', items: { type: 'string' } },
    platform: { type: 'string' },
    inputs: { type: 'array', items: tensorMetadata },
    outputs: { type: 'array', items: tensorMetadata },
  },
} as const;

export const inferSummary = `Inference: input '${INPUT_NAME}' FP32 [N, ${FEATURE_COUNT}] in feature-schema order (null = missing)`;
