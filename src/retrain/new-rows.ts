/**
 * New labelled rows (a patient's 13 features and the outcome observed later): reading them from a UCI-format file,
 * de-duplicating them, and the content-hash split into training and hold-out. Pure apart from the file read.
 *
 * The hold-out side of a row depends only on its feature values, so a row (or a resent duplicate of it) is on the same
 * side in every run: it can never be trained on in one retraining and used as evidence in the next.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Feature } from '../features/feature-schema.js';
import { targetFromNum } from '../features/feature-schema.js';
import { parseUciText } from '../train/data/uci-file.js';

export interface LabelledRow {
  /** Schema order; NaN = missing. */
  features: number[];
  /** The observed outcome (1 = disease). */
  outcome: 0 | 1;
}

/** Canonical text of a row's features: the identity used for de-duplication and the hold-out hash. */
export function featureKey(features: readonly number[]): string {
  return features.map((v) => (Number.isNaN(v) ? '?' : String(v))).join(',');
}

/** A number in [0, 1) from the sha256 of `salt` and the row's features: uniform, and the same in every run. */
export function contentHashUnit(features: readonly number[], salt = 'retrain-holdout'): number {
  const digest = createHash('sha256')
    .update(`${salt}\n${featureKey(features)}`)
    .digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

export const isHeldOut = (features: readonly number[], fraction: number): boolean => contentHashUnit(features) < fraction;

/**
 * Rows whose features are not already among `existing` (the original training data) nor earlier in `rows`; the first
 * one seen wins, so a row fed back twice counts once. Returns the kept rows and how many were dropped.
 */
export function deduplicate(
  rows: readonly LabelledRow[],
  existing: readonly (readonly number[])[],
): { rows: LabelledRow[]; duplicates: number } {
  const seen = new Set(existing.map(featureKey));
  const kept: LabelledRow[] = [];
  for (const row of rows) {
    const key = featureKey(row.features);
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(row);
  }
  return { rows: kept, duplicates: rows.length - kept.length };
}

/** Split by content hash: `heldOut` are the evidence rows, `train` join the training data. */
export function splitNewRows(rows: readonly LabelledRow[], fraction: number): { train: LabelledRow[]; heldOut: LabelledRow[] } {
  const train: LabelledRow[] = [];
  const heldOut: LabelledRow[] = [];
  for (const row of rows) (isHeldOut(row.features, fraction) ? heldOut : train).push(row);
  return { train, heldOut };
}

/** A UCI processed file as labelled rows (target `num` > 0 → outcome 1). Structural problems throw a DataFileError. */
export async function readLabelledFile(file: string, features: readonly Feature[]): Promise<LabelledRow[]> {
  const parsed = parseUciText(file, await readFile(file, 'utf8'), features);
  return parsed.rows.map((row, i) => ({ features: row, outcome: targetFromNum(parsed.num[i]!) }));
}

/** Rows as UCI processed text (outcome as `num` 0/1, `?` for missing), the format training reads. */
export function toUciText(rows: readonly LabelledRow[]): string {
  return rows.map((r) => `${featureKey(r.features)},${r.outcome}\n`).join('');
}
