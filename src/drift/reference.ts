import type { CategoricalReference, FeatureReference, NumericReference } from '../contract/model-card.js';
import type { Feature } from '../features/feature-schema.js';

/**
 * Per-feature reference distributions stored in model.json and compared against live traffic. Their shape is the
 * artifact contract's (src/contract/model-card.ts): numeric quantile bins plus 101 quantiles for a KS statistic,
 * categorical shares per code; missing values are counted apart and never enter the bins.
 */
export type { CategoricalReference, FeatureReference, NumericReference } from '../contract/model-card.js';

export const DEFAULT_NUMERIC_BINS = 10;

/** Bin of a numeric value: the first i with value <= edges[i], else edges.length (so edges.length + 1 bins). */
export function numericBin(value: number, edges: readonly number[]): number {
  for (let i = 0; i < edges.length; i++) {
    if (value <= edges[i]!) return i;
  }
  return edges.length;
}

/** Linear-interpolated quantile (type 7, as numpy's default) of ascending-sorted values. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export function buildNumericReference(values: readonly number[], bins = DEFAULT_NUMERIC_BINS): NumericReference {
  const present = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const missing = values.length - present.length;
  // Unique interior edges: discrete features (ca, oldpeak) repeat quantiles, which would create empty duplicate bins.
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const edge = quantileSorted(present, i / bins);
    if (Number.isFinite(edge) && (edges.length === 0 || edge > edges[edges.length - 1]!)) edges.push(edge);
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of present) counts[numericBin(v, edges)]!++;
  const quantiles = Array.from({ length: 101 }, (_, i) => quantileSorted(present, i / 100));
  return {
    kind: 'numeric',
    edges,
    proportions: counts.map((c) => (present.length ? c / present.length : 0)),
    quantiles,
    missingProportion: values.length ? missing / values.length : 0,
    count: values.length,
  };
}

export function buildCategoricalReference(values: readonly number[], codes: readonly number[]): CategoricalReference {
  const present = values.filter((v) => Number.isFinite(v));
  const counts = codes.map((code) => present.filter((v) => v === code).length);
  return {
    kind: 'categorical',
    codes: [...codes],
    proportions: counts.map((c) => (present.length ? c / present.length : 0)),
    missingProportion: values.length ? (values.length - present.length) / values.length : 0,
    count: values.length,
  };
}

/** References for every feature; `columns[j]` holds the training values of `features[j]` (NaN = missing). */
export function buildReferences(features: readonly Feature[], columns: readonly (readonly number[])[]): Record<string, FeatureReference> {
  const out: Record<string, FeatureReference> = {};
  features.forEach((feature, j) => {
    const values = columns[j] ?? [];
    out[feature.name] =
      feature.type === 'numeric'
        ? buildNumericReference(values)
        : buildCategoricalReference(
            values,
            feature.codes.map((c) => c.code),
          );
  });
  return out;
}
