import type { Feature } from '../../features/feature-schema.js';

/**
 * One column of the design matrix: a scaled numeric feature, one category code of a categorical feature, or a
 * missing indicator (1 when the feature was not measured, 0 when it was).
 */
export type DesignColumn =
  | { feature: string; featureIndex: number; kind: 'numeric'; mean: number; std: number }
  | { feature: string; featureIndex: number; kind: 'one-hot'; code: number }
  | { feature: string; featureIndex: number; kind: 'missing' };

/**
 * Fitted preprocessing, identical in TypeScript and in the ONNX graph:
 * impute (median for numerics, most frequent code for categoricals) → standardise numerics → one-hot categoricals,
 * plus a missing indicator per feature in `indicatorIndices`.
 * Design columns: all numerics first (schema order), then each categorical's codes (schema order), then the
 * indicators (schema order).
 */
export interface Preprocessing {
  imputeValues: number[];
  numericIndices: number[];
  categoricalIndices: number[];
  indicatorIndices: number[];
  columns: DesignColumn[];
}

export interface PreprocessingOptions {
  /** false keeps numerics in their own units (trees). */
  standardise: boolean;
  /**
   * A feature gets a missing-indicator column when at least this share of the training rows lack it (and at least
   * one does: an all-zero column carries nothing). null = no indicators, the imputed value stands for "missing".
   */
  indicatorMinShare: number | null;
}

export const isMissing = (value: number): boolean => !Number.isFinite(value);

/** Features (schema indices) that get a missing indicator under `minShare` on these rows. */
export function indicatorFeatures(rows: readonly (readonly number[])[], featureCount: number, minShare: number | null): number[] {
  if (minShare === null || rows.length === 0) return [];
  const indices: number[] = [];
  for (let j = 0; j < featureCount; j++) {
    const missing = rows.reduce((n, r) => n + (isMissing(r[j]!) ? 1 : 0), 0);
    if (missing > 0 && missing / rows.length >= minShare) indices.push(j);
  }
  return indices;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mostFrequent(values: readonly number[], codes: readonly number[]): number {
  let best = codes[0]!;
  let bestCount = -1;
  for (const code of codes) {
    const count = values.filter((v) => v === code).length;
    if (count > bestCount) [best, bestCount] = [code, count];
  }
  return best;
}

/**
 * `standardise: false` keeps numerics in their own units (mean 0, std 1 is the identity): trees need no scaling, and
 * thresholds in raw units compare the same way in float64 (TypeScript) and float32 (ONNX).
 */
export function fitPreprocessing(
  features: readonly Feature[],
  rows: readonly (readonly number[])[],
  options: PreprocessingOptions = { standardise: true, indicatorMinShare: null },
): Preprocessing {
  const imputeValues = features.map((feature, j) => {
    const present = rows.map((r) => r[j]!).filter((v) => Number.isFinite(v));
    if (present.length === 0) throw new Error(`feature ${feature.name}: no present values to impute from`);
    return feature.type === 'numeric'
      ? median(present)
      : mostFrequent(
          present,
          feature.codes.map((c) => c.code),
        );
  });
  const numericIndices: number[] = [];
  const categoricalIndices: number[] = [];
  features.forEach((f, j) => (f.type === 'numeric' ? numericIndices : categoricalIndices).push(j));

  const columns: DesignColumn[] = [];
  for (const j of numericIndices) {
    const values = rows.map((r) => (Number.isFinite(r[j]!) ? r[j]! : imputeValues[j]!));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
    // A constant column would divide by zero; scale 1 keeps it harmless.
    const std = variance > 0 ? Math.sqrt(variance) : 1;
    columns.push(
      options.standardise
        ? { feature: features[j]!.name, featureIndex: j, kind: 'numeric', mean, std }
        : { feature: features[j]!.name, featureIndex: j, kind: 'numeric', mean: 0, std: 1 },
    );
  }
  for (const j of categoricalIndices) {
    const feature = features[j]!;
    if (feature.type !== 'categorical') continue;
    for (const { code } of feature.codes) columns.push({ feature: feature.name, featureIndex: j, kind: 'one-hot', code });
  }
  const indicatorIndices = indicatorFeatures(rows, features.length, options.indicatorMinShare);
  for (const j of indicatorIndices) columns.push({ feature: features[j]!.name, featureIndex: j, kind: 'missing' });
  return { imputeValues, numericIndices, categoricalIndices, indicatorIndices, columns };
}

export function transformRow(prep: Preprocessing, row: readonly number[]): number[] {
  return prep.columns.map((column) => {
    const raw = row[column.featureIndex]!;
    if (column.kind === 'missing') return isMissing(raw) ? 1 : 0;
    const value = isMissing(raw) ? prep.imputeValues[column.featureIndex]! : raw;
    return column.kind === 'numeric' ? (value - column.mean) / column.std : value === column.code ? 1 : 0;
  });
}

export function transform(prep: Preprocessing, rows: readonly (readonly number[])[]): number[][] {
  return rows.map((row) => transformRow(prep, row));
}
