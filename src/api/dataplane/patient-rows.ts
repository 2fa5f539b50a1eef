/**
 * The one validation of patient input, shared by every protocol (/predict's JSON objects, the Open Inference
 * Protocol's tensors): a candidate row → the model's row (schema order, NaN = missing) or refusal details, each
 * decided by the feature schema's `valueProblem`, so a broken value reads the same rule and allowed values on every
 * route. Protocols only say how to read value j and how to name its field.
 */
import { FEATURES, FEATURE_NAMES, valueProblem } from '../../features/feature-schema.js';
import { FEATURE_COUNT } from '../model/service.js';
import { UNKNOWN_FIELD, type Refusals } from './refusals.js';

const FEATURE_SET = new Set(FEATURE_NAMES);

/** Rows validated per event-loop turn in large requests, so other requests and probes are answered meanwhile. */
export const ROWS_PER_TURN = 1000;
const FEATURE_LIST = `one of ${FEATURE_NAMES.join(', ')}`;

/**
 * Validate the values of one candidate row: `valueAt(j)` is the value given for feature j (undefined or null =
 * missing), `fieldOf(j)` names where it was given (only called for details that are kept). Closes the row in
 * `refusals`; returns the row, or null when refused.
 */
export function validateRow(valueAt: (j: number) => unknown, fieldOf: (j: number) => string, refusals: Refusals): number[] | null {
  const row = new Array<number>(FEATURE_COUNT);
  for (let j = 0; j < FEATURE_COUNT; j++) {
    const value = valueAt(j);
    const feature = FEATURES[j]!;
    const problem = valueProblem(feature, value);
    if (problem) {
      refusals.addToRow(feature.name, problem.kind, () => ({ field: fieldOf(j), rule: problem.rule, allowed: problem.allowed }));
      row[j] = Number.NaN;
    } else row[j] = typeof value === 'number' ? value : Number.NaN;
  }
  return refusals.endRow() ? null : row;
}

/**
 * One patient given as an object of feature values by name (`{ "age": 63, ... }`); any other key is refused.
 * `prefix` names the object in details ('' for the body itself, 'instances[3]' in a batch).
 */
export function rowFromRecord(record: Readonly<Record<string, unknown>>, prefix: string, refusals: Refusals): number[] | null {
  const at = (name: string) => (prefix === '' ? name : `${prefix}.${name}`);
  for (const key of Object.keys(record)) {
    if (!FEATURE_SET.has(key))
      refusals.addToRow(UNKNOWN_FIELD, 'unknown_field', () => ({ field: at(key), rule: 'unknown field', allowed: FEATURE_LIST }));
  }
  return validateRow(
    (j) => (Object.hasOwn(record, FEATURE_NAMES[j]!) ? record[FEATURE_NAMES[j]!] : undefined),
    (j) => at(FEATURE_NAMES[j]!),
    refusals,
  );
}
