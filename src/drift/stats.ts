import { numericBin, type FeatureReference } from './reference.js';

/**
 * Drift statistics, pure functions. Conventions (also in the README's drift section):
 *
 * - Bins. Numeric features use the training quantile edges from model.json through `numericBin` (the same function
 *   training used, so training and serving bin identically). Categorical features use one bin per allowed code plus
 *   an "unknown code" bin. Every feature has one extra "missing" bin: a feature that is missing far more (or less)
 *   often than in training is itself a shift, so the missing share enters PSI like any other bin (it is also reported
 *   on its own as missingShare / referenceMissingShare).
 * - Empty bins. PSI has ln(a/e), infinite when a bin is empty on one side. We add a pseudo-count of 0.5 to every bin
 *   that is non-empty on at least one side (Jeffreys' prior), on both sides. That is the "small epsilon", scaled to
 *   the sample size: 0.5/(n + 0.5·k), about 0.001–0.008 here, and it shrinks as the window grows. Bins empty on
 *   both sides are left out, so they add nothing.
 * - Bands: PSI < 0.1 ok, 0.1–0.25 warning, > 0.25 drift (the usual credit-scoring convention).
 * - Noise gate. PSI is the symmetric (Jeffreys) divergence; under "no shift" PSI·nN/(n+N) is asymptotically
 *   chi-square with k−1 degrees of freedom (n window rows, N training rows, k bins). A 61-row window against 242
 *   training rows averages PSI ≈ 0.19 from sampling noise alone, so bands alone would flag a real hold-out set.
 *   A band above ok therefore counts only when PSI also exceeds the chi-square critical value at alpha = 0.001
 *   (per feature; 13 features → about 1 % family-wise false alarms).
 * - KS (numerics, secondary). Two-sample Kolmogorov–Smirnov distance between the window's ECDF and the reference
 *   CDF (piecewise linear through the 101 training quantiles). It catches shape changes inside the bins. Threshold:
 *   the asymptotic two-sample critical value c(alpha)·sqrt((n+m)/(n·m)) at alpha = 0.001, with m the training
 *   count. Conservative for discrete features (ca, oldpeak), which is the safe side. A significant KS alone raises
 *   a feature to `warning`, never to `drift`.
 */

export type DriftLevel = 'ok' | 'warning' | 'drift';

export const DRIFT_THRESHOLDS = {
  psiWarning: 0.1,
  psiDrift: 0.25,
  alpha: 0.001,
  ksAlpha: 0.001,
  pseudoCount: 0.5,
} as const;

export type DriftThresholds = typeof DRIFT_THRESHOLDS;

/** Number of live bins of a feature: value bins, then (categorical) the unknown-code bin, then the missing bin. */
export function binCount(reference: FeatureReference): number {
  return reference.kind === 'numeric' ? reference.edges.length + 2 : reference.codes.length + 2;
}

/** Live bin of one value (NaN or undefined = missing). */
export function binOf(reference: FeatureReference, value: number | undefined): number {
  const missingBin = binCount(reference) - 1;
  if (value === undefined || !Number.isFinite(value)) return missingBin;
  if (reference.kind === 'numeric') return numericBin(value, reference.edges);
  const index = reference.codes.indexOf(value);
  return index >= 0 ? index : reference.codes.length;
}

/** Training counts per live bin, rebuilt from model.json's shares and count. */
export function referenceCounts(reference: FeatureReference): number[] {
  const present = reference.count * (1 - reference.missingProportion);
  const counts = reference.proportions.map((p) => p * present);
  if (reference.kind === 'categorical') counts.push(0); // unknown code: never seen in training
  counts.push(reference.count * reference.missingProportion);
  return counts;
}

export interface PsiResult {
  psi: number;
  /** Bins non-empty on at least one side (the chi-square test has bins − 1 degrees of freedom). */
  bins: number;
}

/** Population stability index Σ (a − e)·ln(a/e) over bins, with the pseudo-count smoothing described above. */
export function psi(
  expectedCounts: readonly number[],
  actualCounts: readonly number[],
  pseudoCount: number = DRIFT_THRESHOLDS.pseudoCount,
): PsiResult {
  if (expectedCounts.length !== actualCounts.length) throw new Error('psi: count vectors differ in length');
  const used: number[] = [];
  for (let i = 0; i < expectedCounts.length; i++) {
    if (expectedCounts[i]! > 0 || actualCounts[i]! > 0) used.push(i);
  }
  const k = used.length;
  const expectedTotal = used.reduce((s, i) => s + expectedCounts[i]!, 0) + pseudoCount * k;
  const actualTotal = used.reduce((s, i) => s + actualCounts[i]!, 0) + pseudoCount * k;
  let sum = 0;
  for (const i of used) {
    const e = (expectedCounts[i]! + pseudoCount) / expectedTotal;
    const a = (actualCounts[i]! + pseudoCount) / actualTotal;
    sum += (a - e) * Math.log(a / e);
  }
  return { psi: sum, bins: k };
}

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const poly = (coef: number[], x: number): number => coef.reduce((acc, v) => acc * x + v, 0);
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(c, q) / (poly(d, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}

/** Upper chi-square quantile χ²(df) at 1 − alpha, Wilson–Hilferty (within ~3 % for df ≤ 3, < 1 % above;
 * it errs high at small df, i.e. towards fewer alarms). */
const chiSquareMemo = new Map<string, number>();

export function chiSquareCritical(df: number, alpha: number): number {
  if (df < 1) return Number.POSITIVE_INFINITY;
  const key = `${df}:${alpha}`;
  const known = chiSquareMemo.get(key);
  if (known !== undefined) return known;
  const value = wilsonHilferty(df, alpha);
  chiSquareMemo.set(key, value);
  return value;
}

function wilsonHilferty(df: number, alpha: number): number {
  const z = normalQuantile(1 - alpha);
  const h = 2 / (9 * df);
  return df * Math.pow(1 - h + z * Math.sqrt(h), 3);
}

/** PSI above which a window of n rows differs from N training rows at level alpha (see "Noise gate"). */
export function psiCritical(bins: number, n: number, referenceN: number, alpha: number = DRIFT_THRESHOLDS.alpha): number {
  if (n <= 0 || referenceN <= 0) return Number.POSITIVE_INFINITY;
  return chiSquareCritical(bins - 1, alpha) * (1 / n + 1 / referenceN);
}

/**
 * Reference CDF from quantiles q[0..K] at probabilities i/K (piecewise-linear quantile function Q).
 * `right`: F(x) = sup{p : Q(p) <= x}; `left`: F(x−) = sup{p : Q(p) < x}. They differ where Q is flat (a value
 * repeated in training, e.g. ca = 0), which is a jump of the CDF.
 */
export function referenceCdf(quantiles: readonly number[], x: number, side: 'right' | 'left'): number {
  const K = quantiles.length - 1;
  if (K < 1) return Number.NaN;
  const first = quantiles[0]!;
  const last = quantiles[K]!;
  if (side === 'right') {
    if (x < first) return 0;
    if (x >= last) return 1;
    // largest i with q[i] <= x (i < K because x < last)
    let lo = 0;
    let hi = K;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (quantiles[mid]! <= x) lo = mid;
      else hi = mid;
    }
    const qa = quantiles[lo]!;
    const qb = quantiles[lo + 1]!;
    return (lo + (x - qa) / (qb - qa)) / K;
  }
  if (x <= first) return 0;
  if (x > last) return 1;
  // smallest i with q[i] >= x (i > 0 because x > first)
  let lo = 0;
  let hi = K;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (quantiles[mid]! >= x) hi = mid;
    else lo = mid;
  }
  const qa = quantiles[hi - 1]!;
  const qb = quantiles[hi]!;
  return (hi - 1 + (x - qa) / (qb - qa)) / K;
}

/**
 * Kolmogorov–Smirnov distance sup |F_n − F| between the ECDF of `sortedValues` (ascending, finite) and the reference
 * CDF. F_n is a step function and F is monotone, so the supremum is reached at the sample points, taking left and
 * right limits of both functions there.
 */
export function ksStatistic(sortedValues: ArrayLike<number>, quantiles: readonly number[]): number {
  const n = sortedValues.length;
  if (n === 0) return Number.NaN;
  let d = 0;
  let i = 0;
  while (i < n) {
    const x = sortedValues[i]!;
    let j = i;
    while (j < n && sortedValues[j] === x) j++;
    const below = i / n; // F_n(x−)
    const atOrBelow = j / n; // F_n(x)
    d = Math.max(d, Math.abs(below - referenceCdf(quantiles, x, 'left')), Math.abs(atOrBelow - referenceCdf(quantiles, x, 'right')));
    i = j;
  }
  return d;
}

/** Two-sample KS critical value c(alpha)·sqrt((n + m)/(n·m)), c(alpha) = sqrt(−ln(alpha/2)/2). */
export function ksCritical(n: number, m: number, alpha: number = DRIFT_THRESHOLDS.ksAlpha): number {
  if (n <= 0 || m <= 0) return Number.POSITIVE_INFINITY;
  return Math.sqrt(-Math.log(alpha / 2) / 2) * Math.sqrt((n + m) / (n * m));
}

export interface FeatureEvidence {
  psi: number;
  psiCritical: number;
  ks?: number | undefined;
  ksCritical?: number | undefined;
}

/** Level of one feature: PSI band when PSI is beyond noise; a significant KS alone gives at most `warning`. */
export function featureLevel(e: FeatureEvidence, t: DriftThresholds = DRIFT_THRESHOLDS): DriftLevel {
  const psiSignificant = e.psi > e.psiCritical;
  if (psiSignificant && e.psi > t.psiDrift) return 'drift';
  if (psiSignificant && e.psi >= t.psiWarning) return 'warning';
  if (e.ks !== undefined && e.ksCritical !== undefined && e.ks > e.ksCritical) return 'warning';
  return 'ok';
}

const RANK: Record<DriftLevel, number> = { ok: 0, warning: 1, drift: 2 };

/** Numeric code used by the hd_drift_status gauge: ok 0, warning 1, drift 2. */
export function levelCode(level: DriftLevel): number {
  return RANK[level];
}

export function worstLevel(levels: Iterable<DriftLevel>): DriftLevel {
  let worst: DriftLevel = 'ok';
  for (const level of levels) if (RANK[level] > RANK[worst]) worst = level;
  return worst;
}
