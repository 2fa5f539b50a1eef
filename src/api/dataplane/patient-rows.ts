/**
 * The one validation of patient input, shared by every protocol (/predict's JSON objects, the Open Inference
 * Protocol's tensors): a candidate row → the model's row (schema order, NaN = missing) or refusal details, each
 * decided by the feature schema's `valueProblem`, so a broken value reads the same rule and allowed values on every
 * route. Protocols only say where a row's values are and how to name a value's field (`FieldNames`, built once per
 * request: the hot path allocates no closure per row, and a name is only built for a detail that is kept).
 */
import { FEATURES, FEATURE_NAMES, valueProblem } from '../../features/feature-schema.js';
import { FEATURE_COUNT } from '../model/service.js';
import { UNKNOWN_FIELD, type Refusals } from './refusals.js';

const FEATURE_SET = new Set(FEATURE_NAMES);
const FEATURE_LIST = `one of ${FEATURE_NAMES.join(', ')}`;

/** Rows validated per event-loop turn in large requests, so other requests and probes are answered meanwhile. */
export const ROWS_PER_TURN = 1000;

/** How a protocol names the field of value `column` of row `row` ('instances[3].chol', 'inputs[0].data[3][4] (chol)'). */
export interface FieldNames {
  field(row: number, column: number): string;
  /** A key of row `row` that is no feature (record protocols only). */
  unknown?(row: number, key: string): string;
}

/** Check value `j` of row `i` into `out[j]`; a broken value is recorded in `refusals`. */
function check(i: number, j: number, value: unknown, out: number[], refusals: Refusals, names: FieldNames): void {
  const feature = FEATURES[j]!;
  const problem = valueProblem(feature, value);
  if (problem === null) {
    out[j] = typeof value === 'number' ? value : Number.NaN;
    return;
  }
  out[j] = Number.NaN;
  refusals.addToRow(feature.name, problem.kind, () => ({ field: names.field(i, j), rule: problem.rule, allowed: problem.allowed }));
}

/**
 * Row `i` given positionally: values[offset + j] is feature j's value (undefined or null = missing). Closes the row
 * in `refusals`; returns the row, or null when refused.
 */
export function rowFromValues(
  values: readonly unknown[],
  offset: number,
  i: number,
  names: FieldNames,
  refusals: Refusals,
): number[] | null {
  const row = new Array<number>(FEATURE_COUNT);
  for (let j = 0; j < FEATURE_COUNT; j++) check(i, j, values[offset + j], row, refusals, names);
  return refusals.endRow() ? null : row;
}

/** Row `i` given as an object of feature values by name (`{ "age": 63, ... }`); any other key is refused. */
export function rowFromRecord(
  record: Readonly<Record<string, unknown>>,
  i: number,
  names: FieldNames,
  refusals: Refusals,
): number[] | null {
  for (const key in record) {
    if (!FEATURE_SET.has(key) && Object.hasOwn(record, key)) {
      refusals.addToRow(UNKNOWN_FIELD, 'unknown_field', () => ({
        field: names.unknown?.(i, key) ?? key,
        rule: 'unknown field',
        allowed: FEATURE_LIST,
      }));
    }
  }
  const row = new Array<number>(FEATURE_COUNT);
  for (let j = 0; j < FEATURE_COUNT; j++) {
    const name = FEATURE_NAMES[j]!;
    const value = record[name];
    // Only own values count (a JSON object's keys are own; never read a feature from a prototype).
    check(i, j, value === undefined || Object.hasOwn(record, name) ? value : undefined, row, refusals, names);
  }
  return refusals.endRow() ? null : row;
}
