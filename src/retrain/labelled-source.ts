/**
 * Where the new labelled rows come from: UCI-format files (`--labelled`), or the API's prediction log (the labelled
 * predictions: features as served, outcome fed back).
 *
 *   openLabelledSource({ files, env }) → LabelledSource { name; rows(); count(since?); close() }
 */
import type { Feature } from '../features/feature-schema.js';
import { readLabelledFile, type LabelledRow } from './new-rows.js';

export interface LabelledSource {
  /** For messages and the report: the files, or "prediction log (…)". */
  readonly name: string;
  rows(): Promise<LabelledRow[]>;
  /** Labelled rows that arrived after `since` (ISO time); files carry no arrival time, so every row counts. */
  count(since?: string | null): Promise<number>;
  close(): Promise<void>;
}

export function fileSource(files: readonly string[], features: readonly Feature[]): LabelledSource {
  let cached: LabelledRow[] | null = null;
  const rows = async () => (cached ??= (await Promise.all(files.map((f) => readLabelledFile(f, features)))).flat());
  return {
    name: files.join(', '),
    rows,
    count: async () => (await rows()).length,
    close: async () => {},
  };
}
