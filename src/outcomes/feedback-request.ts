/**
 * Reading outcome feedback (POST /feedback, the bulk import): one `{ predictionId, outcome, observedAt? }` or
 * `{ "outcomes": [...] }`. Every problem is named by field and rule, like /predict. Pure.
 */
import { isObject, readEnvelope } from '../api/dataplane/batch-envelope.js';
import { InvalidInputError, Refusals } from '../api/dataplane/refusals.js';
import type { OutcomeFeedback } from './store.js';

export interface FeedbackInput {
  items: OutcomeFeedback[];
  /** Whether the body was a batch (`outcomes`): the answer's shape follows. */
  batch: boolean;
}

/** Any RFC 4122 UUID (the log issues v7; the check only keeps garbage out of the database). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 3339 date-time with an explicit offset, as JSON Schema's `date-time`. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const ITEM_FIELDS = ['predictionId', 'outcome', 'observedAt'] as const;
export const ITEM_FIELDS_TEXT = ITEM_FIELDS.join(', ');

/** observedAt as the store keeps times (ISO 8601 UTC, so text order is time order), or null when it is no date-time. */
export function normaliseTime(value: string): string | null {
  if (!DATE_TIME.test(value)) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/** One item's problems, each named `${prefix}field`; the item when it has none. */
function readItem(item: unknown, prefix: string, refusals: Refusals): OutcomeFeedback | null {
  const where = (field: string) => `${prefix}${field}`;
  if (!isObject(item)) {
    refusals.add(() => ({ field: prefix ? prefix.slice(0, -1) : '(body)', rule: 'must be object' }));
    return null;
  }
  let ok = true;
  for (const key of Object.keys(item)) {
    if (!(ITEM_FIELDS as readonly string[]).includes(key)) {
      refusals.add(() => ({ field: where(key), rule: 'unknown field', allowed: ITEM_FIELDS_TEXT }));
      ok = false;
    }
  }
  const { predictionId, outcome, observedAt } = item;
  if (predictionId === undefined) {
    refusals.add(() => ({ field: where('predictionId'), rule: 'required field is missing' }));
    ok = false;
  } else if (typeof predictionId !== 'string' || !UUID.test(predictionId)) {
    refusals.add(() => ({ field: where('predictionId'), rule: 'must be a UUID (the predictionId a prediction returned)' }));
    ok = false;
  }
  if (outcome === undefined) {
    refusals.add(() => ({ field: where('outcome'), rule: 'required field is missing', allowed: '0 (no disease), 1 (disease)' }));
    ok = false;
  } else if (outcome !== 0 && outcome !== 1) {
    refusals.add(() => ({ field: where('outcome'), rule: 'must be one of the allowed values', allowed: '0 (no disease), 1 (disease)' }));
    ok = false;
  }
  let observed: string | null | undefined;
  if (observedAt !== undefined) {
    observed = typeof observedAt === 'string' ? normaliseTime(observedAt) : null;
    if (observed === null) {
      refusals.add(() => ({
        field: where('observedAt'),
        rule: 'must be an RFC 3339 date-time with a time zone, e.g. 2026-12-06T09:30:00Z',
      }));
      ok = false;
    }
  }
  if (!ok) return null;
  return { predictionId: (predictionId as string).toLowerCase(), outcome: outcome as 0 | 1, ...(observed && { observedAt: observed }) };
}

/** The feedback items of a body; throws InvalidInputError naming every problem (up to `maxDetails`). */
export function readFeedbackBody(body: unknown, maxBatchSize: number, maxDetails: number): FeedbackInput {
  const refusals = new Refusals(maxDetails);
  const refuse = (): never => {
    throw new InvalidInputError('body', refusals);
  };
  const envelope = readEnvelope(body, 'outcomes', maxBatchSize, refusals);
  if (!envelope) return refuse();
  if (!envelope.batch) {
    const item = readItem(envelope.item, '', refusals);
    return item ? { items: [item], batch: false } : refuse();
  }
  const items: OutcomeFeedback[] = [];
  envelope.items.forEach((item, i) => {
    const read = readItem(item, `outcomes[${i}].`, refusals);
    if (read) items.push(read);
  });
  return refusals.any ? refuse() : { items, batch: true };
}
