/** JSON Schemas of the Open Inference Protocol REST routes (request validation and the published OpenAPI document). */
import { FEATURE_COUNT } from '../../model/service.js';
import { INPUT_NAME, OUTPUT_NAMES } from './tensor.js';

export const tags = ['kserve-v2'];

export const tensorMetadata = {
  type: 'object',
  properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
} as const;

export { V2_ERROR_SCHEMA as v2Error } from '../../plugins/error-handler.js';

const modelName = { type: 'string', maxLength: 256, description: 'Model name', examples: ['heart-disease'] } as const;

/** Path parameters of /v2/models/{name}/... */
export const modelParams = { type: 'object', required: ['name'], properties: { name: modelName } } as const;

/** Path parameters of /v2/models/{name}/versions/{version}/... */
export function versionedParams(exampleVersion: string) {
  return {
    type: 'object',
    required: ['name', 'version'],
    properties: { name: modelName, version: { type: 'string', maxLength: 256, description: 'Model version', examples: [exampleVersion] } },
  } as const;
}

/**
 * `$parameters` of the protocol: an object of scalar values ("$parameter = $string : $boolean | $number | $string").
 * `__proto__` is never a parameter name: the JSON body parser refuses it anywhere.
 */
const parameters = {
  type: 'object',
  propertyNames: { not: { const: '__proto__' } },
  additionalProperties: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
} as const;

/**
 * The inference request as this model takes it: one input tensor `features`, FP32, shape [N, 13], data flat or nested
 * row-major. What JSON Schema cannot say (that `shape` describes `data`, and each column's feature rules) is checked
 * by tensor.ts and the shared row validation, and answered 400 naming the problem.
 */
export const inferRequestSchema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string' },
    parameters,
    inputs: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype', 'data'],
        properties: {
          name: { type: 'string', enum: [INPUT_NAME] },
          shape: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 },
          datatype: { type: 'string', enum: ['FP32'] },
          parameters,
          data: {
            type: 'array',
            description: `[N, ${FEATURE_COUNT}] values in feature-schema order, row-major, flat or nested; null = missing feature (imputed)`,
          },
        },
      },
    },
    outputs: {
      type: 'array',
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string', enum: [...OUTPUT_NAMES] }, parameters } },
    },
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
