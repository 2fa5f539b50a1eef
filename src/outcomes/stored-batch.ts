/**
 * A prediction_batches row as stored: a block (batch-block.ts; written since migration 3) or, written before it, JSON
 * lines in `predictions` (one array per prediction, in the predictions table's column order). Both are read; only
 * blocks are written. Pure: rows in, SQL values out.
 */
import { BatchBlockReader, predictionBatchBlocks, type BlockPrediction } from './batch-block.js';
import { BATCH_LAYOUT, PredictionBatchBuilder } from './prediction-batch.js';
import { imputedFeatures, scoredFeatures } from './prediction-records.js';
import type { PredictionRoute } from './store.js';

/** A prediction_batches row as read: `block` is a Uint8Array (SQLite) or a Buffer (PostgreSQL), or null. */
export interface StoredBatchRow {
  predictions?: unknown;
  block?: unknown;
}

/** The predictions table's values: [id, created_at, model_version, route, received, features, imputed, probability, label]. */
export type PredictionValues = [string, string, string, string, string, string, string, number, number];

const blockOf = (row: StoredBatchRow): BatchBlockReader | null =>
  row.block instanceof Uint8Array ? new BatchBlockReader(row.block, BATCH_LAYOUT.idChars) : null;

function valuesOf(p: BlockPrediction): PredictionValues {
  return [
    p.id,
    new Date(p.createdMs).toISOString(),
    p.modelVersion,
    p.route,
    p.receivedJson,
    JSON.stringify(scoredFeatures(p.features)),
    JSON.stringify(imputedFeatures(p.features)),
    p.probability,
    p.label,
  ];
}

/** A line's values; lines start with their id (`["<id>"`). */
function lineValues(line: string): PredictionValues {
  const [id, createdAt, modelVersion, route, received, features, imputed, probability, label] = JSON.parse(line) as [
    string,
    string,
    string,
    string,
    unknown,
    unknown,
    unknown,
    number,
    number,
  ];
  return [
    id,
    createdAt,
    modelVersion,
    route,
    JSON.stringify(received),
    JSON.stringify(features),
    JSON.stringify(imputed),
    probability,
    label,
  ];
}

/** The stored prediction `id`'s values, or null when this row does not hold it. */
export function storedPrediction(row: StoredBatchRow, id: string): PredictionValues | null {
  const block = blockOf(row);
  if (block) {
    const i = block.indexOf(id);
    return i < 0 ? null : valuesOf(block.prediction(i));
  }
  const text = String(row.predictions);
  const needle = `["${id}"`;
  // The id's characters (hex and '-') cannot occur unescaped elsewhere at a line start.
  const at = text.startsWith(needle) ? 0 : text.indexOf(`\n${needle}`) + 1;
  if (at <= 0 && !text.startsWith(needle)) return null;
  const end = text.indexOf('\n', at);
  return lineValues(text.slice(at, end < 0 ? undefined : end));
}

/** What a row keeps of its predictions made at or after `cutoff` (ISO 8601 UTC): as it is to be stored again. */
export interface KeptPredictions {
  removed: number;
  kept: number;
  /** The earliest created_at kept. */
  createdFrom: string;
  predictions: string;
  block: Uint8Array | null;
}

/** The predictions of `row` made at or after `cutoff`; the row straddles it, so at least one is kept. */
export function keptFrom(row: StoredBatchRow, cutoff: string): KeptPredictions {
  const block = blockOf(row);
  if (!block) {
    const lines = String(row.predictions).split('\n');
    const created = lines.map((line) => lineValues(line)[1]);
    const kept = lines.filter((_, k) => created[k]! >= cutoff);
    const createdFrom = created.filter((c) => c >= cutoff).sort()[0]!;
    return { removed: lines.length - kept.length, kept: kept.length, createdFrom, predictions: kept.join('\n'), block: null };
  }
  const keep: number[] = [];
  for (let i = 0; i < block.rows; i++) if (new Date(block.createdMs(i)).toISOString() >= cutoff) keep.push(i);
  const builder = new PredictionBatchBuilder(Math.max(1, keep.length));
  let createdFrom = Number.POSITIVE_INFINITY;
  for (const i of keep) {
    const p = block.prediction(i);
    builder.add(p.id, p.createdMs, p.modelVersion, p.route as PredictionRoute, p.receivedJson, p.features, p.probability, p.label);
    createdFrom = Math.min(createdFrom, p.createdMs);
  }
  // One block: the row held one second's ids, and so do the predictions it keeps.
  const [rebuilt] = predictionBatchBlocks(builder.seal(), BATCH_LAYOUT);
  return {
    removed: block.rows - keep.length,
    kept: keep.length,
    createdFrom: new Date(createdFrom).toISOString(),
    predictions: '',
    block: rebuilt![6],
  };
}
