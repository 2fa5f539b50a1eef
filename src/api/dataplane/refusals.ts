/**
 * What was wrong with a request's input, collected while validating it: the first details (naming field, rule and
 * allowed values) up to a cap, how many problems there were in all, and how many rows were refused by which
 * feature and rule (for metrics and drift status). Bounded: a request with 100,000 bad rows keeps `maxDetails`
 * details and a few counters, never one object per problem.
 */
import type { RuleKind } from '../../features/feature-schema.js';

export interface ErrorDetail {
  field: string;
  rule: string;
  allowed?: string;
}

/** Why a row was refused: a feature's rule, or a key that is no feature. A closed set (metric label). */
export type RefusalRule = RuleKind | 'unknown_field';

/** Label of a key that is no feature: never the client's key itself, so metric label values stay bounded. */
export const UNKNOWN_FIELD = '(unknown)';

/** Label of a row that is not a patient at all (e.g. a number where an object belongs). */
export const NOT_A_PATIENT = '(row)';

/** Default cap on error details per request (MAX_ERROR_DETAILS). */
export const DEFAULT_MAX_DETAILS = 100;

export class Refusals {
  readonly details: ErrorDetail[] = [];
  /** Problems found, shown or not. */
  problems = 0;
  /** Rows refused (at least one problem). */
  refusedRows = 0;
  /** Refused rows per `${field}\u0000${rule}` (a row counts once per field and rule it breaks). */
  readonly byFieldRule = new Map<string, number>();
  /** Each refused row's `${field}\u0000${rule}` keys, in order (identical lists shared: one pointer per row). */
  readonly refusedRowKeys: (readonly string[])[] = [];
  private readonly interned = new Map<string, readonly string[]>();
  private rowKeys: string[] = [];

  constructor(readonly maxDetails: number = DEFAULT_MAX_DETAILS) {}

  /** Details beyond the cap (counted, not kept). */
  get omitted(): number {
    return this.problems - this.details.length;
  }

  get any(): boolean {
    return this.problems > 0;
  }

  /**
   * A problem not tied to a feature of a row (envelope, tensor shape). `detail` is called only while under the cap,
   * so callers never build strings for details nobody will see.
   */
  add(detail: () => ErrorDetail): void {
    this.problems++;
    if (this.details.length < this.maxDetails) this.details.push(detail());
  }

  /** A problem of the current row: counted for the row's refusal by `label` (feature name) and `rule`. */
  addToRow(label: string, rule: RefusalRule, detail: () => ErrorDetail): void {
    this.add(detail);
    const key = `${label}\u0000${rule}`;
    if (!this.rowKeys.includes(key)) this.rowKeys.push(key);
  }

  /** Close the current row; returns whether it was refused. */
  endRow(): boolean {
    if (this.rowKeys.length === 0) return false;
    this.refusedRows++;
    for (const key of this.rowKeys) this.byFieldRule.set(key, (this.byFieldRule.get(key) ?? 0) + 1);
    const joined = this.rowKeys.join('\u0001');
    let keys = this.interned.get(joined);
    if (!keys) this.interned.set(joined, (keys = Object.freeze(this.rowKeys)));
    this.refusedRowKeys.push(keys);
    this.rowKeys = [];
    return true;
  }

  /** Refused-row counts as { field, rule, rows }. */
  counts(): { field: string; rule: RefusalRule; rows: number }[] {
    return [...this.byFieldRule].map(([key, rows]) => ({ ...splitKey(key), rows }));
  }
}

/** `${field}\u0000${rule}` → its parts. */
export function splitKey(key: string): { field: string; rule: RefusalRule } {
  const [field, rule] = key.split('\u0000') as [string, RefusalRule];
  return { field, rule };
}

/** One line for a message: the first few details, then how many more (shown or omitted). */
export function summarise(details: readonly ErrorDetail[], total = details.length, limit = 5): string {
  const shown = details.slice(0, limit).map((d) => `${d.field}: ${d.rule}${d.allowed ? ` (allowed: ${d.allowed})` : ''}`);
  const more = total > shown.length ? `; and ${total - shown.length} more` : '';
  return shown.join('; ') + more;
}

/**
 * A request refused by input validation (400). Carries the collected refusals; the error handlers render it in
 * their route's error shape (`{ error, message, details }` or the Open Inference Protocol's `{ error }`).
 */
export class InvalidInputError extends Error {
  readonly statusCode = 400;
  readonly code = 'HD_INVALID_INPUT';
  constructor(
    readonly context: string,
    readonly refusals: Refusals,
  ) {
    super(`invalid ${context}: ${summarise(refusals.details, refusals.problems)}`);
  }
}
