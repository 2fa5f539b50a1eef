/**
 * Refused traffic over the most recent rows: a ring buffer of the last `windowSize` row outcomes (accepted or
 * refused, and for a refused row the fields and rules it broke). The drift window holds accepted rows only, so
 * without this a source whose every row is refused (a hospital writing 0 for "not measured") leaves drift at `ok`
 * with too little data instead of saying what is happening. O(keys) per row; counts are kept incrementally.
 */
import { splitKey, type RefusalRule } from './refusals.js';

export interface RefusalStatus {
  /** Rows in the window (accepted and refused). */
  windowRows: number;
  refusedRows: number;
  /** refusedRows / windowRows (0 when empty). */
  refusedShare: number;
  /** True when the window holds at least minSamples rows and more than half were refused. */
  mostlyRefused: boolean;
  /** Refused rows in the window per field and rule (a row counts once per field and rule it broke). */
  byField: Record<string, Partial<Record<RefusalRule, number>>>;
  /** Rows refused since the server started. */
  totalRefusedRows: number;
}

export class RefusalMonitor {
  private readonly outcomes: (readonly string[] | null)[];
  private next = 0;
  private filled = 0;
  private refusedInWindow = 0;
  private total = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    readonly windowSize: number,
    readonly minSamples = 50,
  ) {
    this.outcomes = new Array<readonly string[] | null>(windowSize).fill(null);
  }

  accepted(rows: number): void {
    for (let i = 0; i < Math.min(rows, this.windowSize); i++) this.push(null);
  }

  /** Refused rows, each given as the `${field}\u0000${rule}` keys it broke (Refusals.refusedRowKeys). */
  refused(rows: readonly (readonly string[])[]): void {
    this.total += rows.length;
    for (let i = Math.max(0, rows.length - this.windowSize); i < rows.length; i++) this.push(rows[i]!);
  }

  private push(outcome: readonly string[] | null): void {
    if (this.filled === this.windowSize) this.forget(this.outcomes[this.next]!);
    else this.filled++;
    this.outcomes[this.next] = outcome;
    if (outcome) {
      this.refusedInWindow++;
      for (const key of outcome) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
    this.next = (this.next + 1) % this.windowSize;
  }

  private forget(outcome: readonly string[] | null): void {
    if (!outcome) return;
    this.refusedInWindow--;
    for (const key of outcome) {
      const left = this.counts.get(key)! - 1;
      if (left > 0) this.counts.set(key, left);
      else this.counts.delete(key);
    }
  }

  status(): RefusalStatus {
    const byField: RefusalStatus['byField'] = {};
    for (const [key, rows] of this.counts) {
      const { field, rule } = splitKey(key);
      (byField[field] ??= {})[rule] = rows;
    }
    const refusedShare = this.filled === 0 ? 0 : this.refusedInWindow / this.filled;
    return {
      windowRows: this.filled,
      refusedRows: this.refusedInWindow,
      refusedShare,
      mostlyRefused: this.filled >= this.minSamples && refusedShare > 0.5,
      byField,
      totalRefusedRows: this.total,
    };
  }
}
