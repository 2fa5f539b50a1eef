/**
 * A prediction_batches row as stored: a block (batch-block.ts; written since migration 3) or, written before it, JSON
 * lines in `predictions` (one array per prediction, in the predictions table's column order). Both are read; only
 * blocks are written. Pure: rows in, SQL values out.
 */
import {
  BatchBlockReader,
  blockNames,
  blockPrediction,
  blockShape,
  indexRowOf,
  predictionBatchBlocks,
  receivedRange,
  type BlockPrediction,
} from './batch-block.js';
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

/** The prediction `id`'s values from a row of JSON lines (written before blocks), or null when the row does not hold it. */
export function linePrediction(text: string, id: string): PredictionValues | null {
  const needle = `["${id}"`;
  // The id's characters (hex and '-') cannot occur unescaped elsewhere at a line start.
  const at = text.startsWith(needle) ? 0 : text.indexOf(`\n${needle}`) + 1;
  if (at <= 0 && !text.startsWith(needle)) return null;
  const end = text.indexOf('\n', at);
  return lineValues(text.slice(at, end < 0 ? undefined : end));
}

/** A byte range of a block: 1-based start, as SQL's substr takes it, and length. */
export interface BlockPart {
  from: number;
  bytes: number;
}

/** Where in a block the prediction `id` lies, from the block's header and index; null when the block does not hold it. */
export function blockPartsOf(
  head: Uint8Array,
  index: Uint8Array,
  blockBytes: number,
  id: string,
): { record: BlockPart; received: BlockPart; names: BlockPart } | null {
  const shape = blockShape(head, BATCH_LAYOUT.idChars);
  const i = indexRowOf(shape, index, id);
  if (i < 0) return null;
  const received = receivedRange(shape, index, i);
  return {
    record: { from: shape.recordsAt + i * shape.recordStride + 1, bytes: shape.recordStride },
    received: { from: received.at + 1, bytes: received.bytes },
    names: { from: shape.namesAt + 1, bytes: blockBytes - shape.namesAt },
  };
}

/** The prediction's values from the parts blockPartsOf pointed to. */
export function blockPartsPrediction(
  head: Uint8Array,
  id: string,
  record: Uint8Array,
  received: Uint8Array,
  names: Uint8Array,
): PredictionValues {
  const shape = blockShape(head, BATCH_LAYOUT.idChars);
  return valuesOf(blockPrediction(shape, id, record, received, blockNames(shape, names)));
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
