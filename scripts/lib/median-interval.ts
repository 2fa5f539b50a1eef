/**
 * A distribution-free confidence interval for a median, from order statistics (the sign test's interval): for n
 * values, [x(k), x(n+1-k)] covers the true median with probability 1 - 2·P(B < k), B ~ Binomial(n, 1/2), whatever the
 * values' distribution. The bench uses it on its paired round ratios, whose spread here (±15 % between rounds) makes a
 * bare median too easy to over-read.
 */

export interface MedianInterval {
  low: number;
  high: number;
  /** The interval's exact coverage (at least the level asked for), or null when n is too small to reach it. */
  coverage: number | null;
}

/** P(B <= k) for B ~ Binomial(n, 1/2). */
function binomialHalfCdf(n: number, k: number): number {
  let term = 0.5 ** n; // P(B = 0)
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum;
}

/**
 * The narrowest order-statistic interval whose coverage is at least `level` (0.9 by default: 0.93 with 8 values).
 * With too few values for that level, the whole range and a null coverage.
 */
export function medianInterval(values: readonly number[], level = 0.9): MedianInterval {
  if (values.length === 0) throw new Error('median interval of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  // The largest k (1-based) with 1 - 2·P(B <= k - 1) >= level.
  let best: { k: number; coverage: number } | null = null;
  for (let k = 1; k <= Math.floor(n / 2); k++) {
    const coverage = 1 - 2 * binomialHalfCdf(n, k - 1);
    if (coverage >= level) best = { k, coverage };
    else break;
  }
  if (!best) return { low: sorted[0]!, high: sorted[n - 1]!, coverage: null };
  return { low: sorted[best.k - 1]!, high: sorted[n - best.k]!, coverage: best.coverage };
}

/** A ratio's target against its median's interval: met if the low end reaches it, missed if the high end does not. */
export type TargetVerdict = 'met' | 'missed' | 'undecided';

export function targetVerdict(interval: { low: number; high: number }, target: number): TargetVerdict {
  if (interval.low >= target) return 'met';
  return interval.high < target ? 'missed' : 'undecided';
}
