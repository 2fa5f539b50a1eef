/**
 * Reading a `/predict` request: the body is one patient object or `{ "instances": [patient, ...] }`; each patient
 * goes through the shared row validation (dataplane/patient-rows.ts). The route's published JSON Schema
 * (schemas/patient.ts) describes the same rules for the docs; test/api/validation-agreement.test.ts checks that this
 * reader accepts exactly what that schema accepts.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { FEATURE_NAMES } from '../../../features/feature-schema.js';
import { isObject, readEnvelope } from '../../dataplane/batch-envelope.js';
import { ROWS_PER_TURN, rowFromRecord, type FieldNames } from '../../dataplane/patient-rows.js';
import { InvalidInputError, NOT_A_PATIENT, Refusals } from '../../dataplane/refusals.js';

export interface PredictInput {
  /** Validated rows (schema order, NaN = missing). */
  rows: number[][];
  /** Whether the body was a batch (the answer's shape follows). */
  batch: boolean;
}

export interface PredictQuery {
  explain: boolean;
}

const EXPLAIN_VALUES = ['true', 'false', '1', '0'] as const;

/** Fields of a single patient body: 'age'. */
const SINGLE: FieldNames = { field: (_row, column) => FEATURE_NAMES[column]!, unknown: (_row, key) => key };
/** Fields of a batch: 'instances[3].age'. */
const BATCH: FieldNames = {
  field: (row, column) => `instances[${row}].${FEATURE_NAMES[column]!}`,
  unknown: (row, key) => `instances[${row}].${key}`,
};

/**
 * The validated rows of a /predict body; throws (a single patient) or rejects (a batch) with InvalidInputError naming
 * every problem (up to `maxDetails`). A single patient is read at once, without a promise (the hot path); a batch
 * asynchronously, ROWS_PER_TURN rows per event-loop turn.
 */
export function readPredictBody(body: unknown, maxBatchSize: number, maxDetails: number): PredictInput | Promise<PredictInput> {
  const refusals = new Refusals(maxDetails);
  const envelope = readEnvelope(body, 'instances', maxBatchSize, refusals);
  if (!envelope) throw new InvalidInputError('body', refusals);
  if (!envelope.batch) {
    const row = rowFromRecord(envelope.item, 0, SINGLE, refusals);
    if (!row) throw new InvalidInputError('body', refusals);
    return { rows: [row], batch: false };
  }
  return readBatch(envelope.items, refusals);
}

async function readBatch(patients: readonly unknown[], refusals: Refusals): Promise<PredictInput> {
  const rows: number[][] = [];
  for (let i = 0; i < patients.length; i++) {
    if (i > 0 && i % ROWS_PER_TURN === 0) await yieldToEventLoop();
    const patient = patients[i];
    if (!isObject(patient)) {
      refusals.addToRow(NOT_A_PATIENT, 'type', () => ({ field: `instances[${i}]`, rule: 'must be object' }));
      refusals.endRow();
      continue;
    }
    const row = rowFromRecord(patient, i, BATCH, refusals);
    if (row) rows.push(row);
  }
  if (refusals.any) throw new InvalidInputError('body', refusals);
  return { rows, batch: true };
}

/** `?explain=true|1` (or false|0); anything else is refused like a body problem. Other parameters are ignored. */
export function readPredictQuery(query: unknown, maxDetails: number): PredictQuery | InvalidInputError {
  const explain = isObject(query) ? query.explain : undefined;
  if (explain === undefined) return { explain: false };
  if (typeof explain === 'string' && (EXPLAIN_VALUES as readonly string[]).includes(explain)) {
    return { explain: explain === 'true' || explain === '1' };
  }
  const refusals = new Refusals(maxDetails);
  refusals.add(() => ({ field: 'explain', rule: 'must be one of the allowed values', allowed: EXPLAIN_VALUES.join(', ') }));
  return new InvalidInputError('querystring', refusals);
}
