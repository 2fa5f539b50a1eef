/**
 * Turns request errors (Ajv validation, body parsing, limits) into answers a client can act on:
 *   { error, message, details: [{ field, rule, allowed? }] }
 * naming the field, the rule it breaks and the values it accepts. Pure functions, no Fastify state.
 */
import { STATUS_CODES } from 'node:http';
import { FEATURES, FEATURE_NAMES } from '../../features/feature-schema.js';
import { allowedValues } from './patient.js';

export interface ErrorDetail {
  field: string;
  rule: string;
  allowed?: string;
}

export interface ErrorBody {
  error: string;
  message: string;
  details: ErrorDetail[];
}

/** The subset of an Ajv error this module reads. */
export interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** '/instances/3/age' → 'instances[3].age'; '' → '(body)'. */
export function fieldName(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (child !== undefined) parts.push(child);
  if (parts.length === 0) return '(body)';
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function featureAllowed(name: string | undefined): string | undefined {
  const feature = FEATURES.find((f) => f.name === name);
  return feature ? allowedValues(feature) : undefined;
}

const lastSegment = (path: string) => path.split('/').filter(Boolean).pop();

function typeRule(type: unknown): string {
  const types = String(type).split(',');
  return `must be ${types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types.at(-1)}` : types[0]}`;
}

/** One detail per Ajv issue; `batch` says whether the body was a batch (changes which fields are allowed at root). */
export function detailFor(issue: ValidationIssue, context: 'body' | 'querystring' | string, batch: boolean): ErrorDetail | null {
  const path = issue.instancePath;
  const p = issue.params;
  switch (issue.keyword) {
    case 'if':
      return null; // "must match then/else schema": the branch's own errors say what is wrong
    case 'additionalProperties': {
      const atBatchRoot = batch && path === '';
      return {
        field: fieldName(path, String(p.additionalProperty)),
        rule: 'unknown field',
        allowed: context === 'body' ? (atBatchRoot ? 'instances' : `one of ${FEATURE_NAMES.join(', ')}`) : undefined,
      };
    }
    case 'required': {
      const missing = String(p.missingProperty);
      return { field: fieldName(path, missing), rule: 'required field is missing', allowed: featureAllowed(missing) };
    }
    case 'type':
      return { field: fieldName(path), rule: typeRule(p.type), allowed: featureAllowed(lastSegment(path)) };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { field: fieldName(path), rule: `${issue.message ?? 'out of range'}`, allowed: featureAllowed(lastSegment(path)) };
    case 'enum':
      return {
        field: fieldName(path),
        rule: 'must be one of the allowed values',
        allowed: featureAllowed(lastSegment(path)) ?? (Array.isArray(p.allowedValues) ? `one of ${p.allowedValues.join(', ')}` : undefined),
      };
    case 'minItems':
      return { field: fieldName(path), rule: `must have at least ${String(p.limit)} item(s)` };
    case 'maxItems':
      return { field: fieldName(path), rule: `must have at most ${String(p.limit)} items (MAX_BATCH_SIZE)` };
    default:
      return { field: fieldName(path), rule: issue.message ?? issue.keyword };
  }
}

function withoutUndefined(detail: ErrorDetail): ErrorDetail {
  return detail.allowed === undefined ? { field: detail.field, rule: detail.rule } : detail;
}

/** Summarise a list of details into one line (first few, then a count). */
export function summarise(details: readonly ErrorDetail[], limit = 5): string {
  const shown = details.slice(0, limit).map((d) => `${d.field}: ${d.rule}${d.allowed ? ` (allowed: ${d.allowed})` : ''}`);
  const more = details.length > limit ? `; and ${details.length - limit} more` : '';
  return shown.join('; ') + more;
}

export function validationErrorBody(issues: readonly ValidationIssue[], context: string, body: unknown): ErrorBody {
  const batch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'instances' in body;
  // One detail per field: a wrong type makes the field's other rules (enum, range) noise.
  const byField = new Map<string, ErrorDetail>();
  for (const issue of issues) {
    const detail = detailFor(issue, context, batch);
    if (!detail) continue;
    const existing = byField.get(detail.field);
    if (existing && issue.keyword !== 'type') continue;
    byField.set(detail.field, withoutUndefined(detail));
  }
  const details = [...byField.values()];
  if (details.length === 0) details.push({ field: `(${context})`, rule: 'invalid' });
  return { error: 'Bad Request', message: `invalid ${context}: ${summarise(details)}`, details };
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
    case 'HD_INVALID_JSON':
      return { error: 'Bad Request', message, details: [{ field: '(body)', rule: 'must be valid JSON' }] };
    case 'HD_FORBIDDEN_KEY':
      return { error: 'Bad Request', message, details: [{ field: message.split("'")[1] ?? '(body)', rule: 'forbidden key' }] };
  }
  return { error: STATUS_CODES[statusCode] ?? 'Bad Request', message, details: [] };
}
