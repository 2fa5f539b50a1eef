import * as aq from 'arquero';
import { valueProblem, type Feature } from '../../features/feature-schema.js';

export interface OutOfRangeValue {
  file: string;
  line: number;
  feature: string;
  value: number;
  rule: string;
}

export interface DataQualityReport {
  rows: number;
  files: { file: string; rows: number }[];
  missing: Record<string, number>;
  outOfRange: { count: number; byFeature: Record<string, number>; examples: OutOfRangeValue[] };
  classBalance: { negative: number; positive: number; positiveShare: number };
  targetCodes: Record<string, number>;
}

export interface LabelledRows {
  rows: number[][];
  num: number[];
  target: number[];
  /** Where each row came from, for messages. */
  origin: { file: string; line: number }[];
}

const MAX_EXAMPLES = 20;

/**
 * Check every value against the schema. A value that breaks its rule (out of range, unknown code) is recorded in
 * the report and treated as missing, so it is imputed rather than learnt from; the caller decides whether the
 * amount is acceptable.
 */
export function validateAgainstSchema(
  features: readonly Feature[],
  data: LabelledRows,
): { cleaned: number[][]; report: DataQualityReport } {
  const examples: OutOfRangeValue[] = [];
  const byFeature: Record<string, number> = Object.fromEntries(features.map((f) => [f.name, 0]));
  let count = 0;
  const cleaned = data.rows.map((row, i) =>
    row.map((value, j) => {
      if (!Number.isFinite(value)) return value;
      const rule = valueProblem(features[j]!, value)?.rule ?? null;
      if (rule === null) return value;
      count++;
      byFeature[features[j]!.name]!++;
      if (examples.length < MAX_EXAMPLES) examples.push({ ...data.origin[i]!, feature: features[j]!.name, value, rule });
      return Number.NaN;
    }),
  );

  // Column-wise summaries with arquero: missing counts per feature (after cleaning) and class balance.
  const columns: Record<string, number[]> = Object.fromEntries(features.map((f, j) => [f.name, data.rows.map((_, i) => cleaned[i]![j]!)]));
  const table = aq.table({ ...columns, num: data.num, target: data.target, file: data.origin.map((o) => o.file) });
  const missingRow = table.rollup(Object.fromEntries(features.map((f) => [f.name, aq.op.invalid(f.name)]))).objects()[0] as Record<
    string,
    number
  >;
  const balance = table.groupby('target').count().objects() as { target: number; count: number }[];
  const codes = table.groupby('num').count().orderby('num').objects() as { num: number; count: number }[];
  const files = table.groupby('file').count().objects() as { file: string; count: number }[];
  const positive = balance.find((b) => b.target === 1)?.count ?? 0;
  const negative = balance.find((b) => b.target === 0)?.count ?? 0;
  return {
    cleaned,
    report: {
      rows: table.numRows(),
      files: files.map((f) => ({ file: f.file, rows: f.count })),
      missing: missingRow,
      outOfRange: { count, byFeature, examples },
      classBalance: { negative, positive, positiveShare: positive / (positive + negative) },
      targetCodes: Object.fromEntries(codes.map((c) => [String(c.num), c.count])),
    },
  };
}
