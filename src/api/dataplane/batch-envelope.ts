/**
 * The envelope the JSON routes share (/predict, /feedback, the outcome import): the body is one item itself, or a
 * batch `{ "<key>": [item, ...] }` with no other field and 1..maxBatchSize items. Problems are added to `refusals`
 * with the same field names and rule texts on every route. Pure.
 */
import type { Refusals } from './refusals.js';

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export type Envelope = { batch: false; item: Record<string, unknown> } | { batch: true; items: unknown[] };

/** The body's item or items; null when the envelope itself is refused (the problems are in `refusals`). */
export function readEnvelope(body: unknown, key: string, maxBatchSize: number, refusals: Refusals): Envelope | null {
  if (!isObject(body)) {
    refusals.add(() => ({ field: '(body)', rule: 'must be object' }));
    return null;
  }
  if (!Object.hasOwn(body, key)) return { batch: false, item: body };
  for (const other of Object.keys(body)) {
    if (other !== key) refusals.add(() => ({ field: other, rule: 'unknown field', allowed: key }));
  }
  const items = body[key];
  if (!Array.isArray(items)) refusals.add(() => ({ field: key, rule: 'must be array' }));
  else if (items.length < 1) refusals.add(() => ({ field: key, rule: 'must have at least 1 item(s)' }));
  else if (items.length > maxBatchSize) {
    // Refused before reading any item: the size alone decides, whatever the items hold.
    refusals.add(() => ({ field: key, rule: `must have at most ${maxBatchSize} items (MAX_BATCH_SIZE)` }));
  }
  return refusals.any ? null : { batch: true, items: items as unknown[] };
}
