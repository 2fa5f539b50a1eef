/**
 * Turns request errors (input validation, body parsing, limits) into answers a client can act on:
 *   { error, message, details: [{ field, rule, allowed? }] }
 * naming the field, the rule it breaks and the values it accepts. Pure functions, no Fastify state.
 */
import { STATUS_CODES } from 'node:http';
import { summarise, type ErrorDetail, type InvalidInputError } from '../dataplane/refusals.js';

export type { ErrorDetail } from '../dataplane/refusals.js';

export interface ErrorBody {
  error: string;
  message: string;
  details: ErrorDetail[];
  /** Problems found beyond the details shown (MAX_ERROR_DETAILS). */
  omittedDetails?: number;
}

/** The subset of an Ajv error this module reads. */
export interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
  /** The offending value (Ajv's `verbose` option). */
  data?: unknown;
}

/** A short rendering of a value a client sent, for messages (never its whole body). */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** '/instances/3/age' → 'instances[3].age'; '' → '(body)'. */
export function fieldName(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (child !== undefined) parts.push(child);
  if (parts.length === 0) return '(body)';
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function typeRule(type: unknown): string {
  const types = String(type).split(',');
  return `must be ${types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types.at(-1)}` : types[0]}`;
}

/** One detail per Ajv issue (routes whose schemas Ajv validates: the V2 request envelope, path parameters). */
export function detailFor(issue: ValidationIssue): ErrorDetail {
  const path = issue.instancePath;
  const p = issue.params;
  switch (issue.keyword) {
    case 'additionalProperties':
      return { field: fieldName(path, String(p.additionalProperty)), rule: 'unknown field' };
    case 'required':
      return { field: fieldName(path, String(p.missingProperty)), rule: 'required field is missing' };
    case 'type':
      return { field: fieldName(path), rule: typeRule(p.type) };
    case 'enum':
      return {
        field: fieldName(path),
        rule: `must be one of the allowed values${'data' in issue ? `, got ${shown(issue.data)}` : ''}`,
        ...(Array.isArray(p.allowedValues) && { allowed: p.allowedValues.join(', ') }),
      };
    case 'minItems':
      return { field: fieldName(path), rule: `must have at least ${String(p.limit)} item(s)` };
    case 'maxItems':
      return { field: fieldName(path), rule: `must have at most ${String(p.limit)} items` };
    default:
      return { field: fieldName(path), rule: issue.message ?? issue.keyword };
  }
}

export function validationErrorBody(issues: readonly ValidationIssue[], context: string): ErrorBody {
  const details = issues.map(detailFor);
  if (details.length === 0) details.push({ field: `(${context})`, rule: 'invalid' });
  return { error: 'Bad Request', message: `invalid ${context}: ${summarise(details)}`, details };
}

/** A request refused by the shared input validation: its details, and how many more were not listed. */
export function invalidInputBody(error: InvalidInputError): ErrorBody {
  const { details, omitted } = error.refusals;
  return { error: 'Bad Request', message: error.message, details, ...(omitted > 0 && { omittedDetails: omitted }) };
}

/** Known Fastify request errors → a clear message; everything else 4xx keeps its own message. */
export function requestErrorBody(code: string | undefined, statusCode: number, message: string, bodyLimit: number): ErrorBody {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        error: 'Unsupported Media Type',
        message: 'send the body as JSON with Content-Type: application/json',
        details: [{ field: 'content-type', rule: 'must be application/json', allowed: 'application/json' }],
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        error: 'Payload Too Large',
        message: `request body is larger than ${bodyLimit} bytes (BODY_LIMIT_BYTES)`,
        details: [{ field: '(body)', rule: `must be at most ${bodyLimit} bytes` }],
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { error: 'Bad Request', message, details: [{ field: '(body)', rule: 'must not be empty' }] };
  }
  return { error: STATUS_CODES[statusCode] ?? 'Bad Request', message, details: [] };
}
