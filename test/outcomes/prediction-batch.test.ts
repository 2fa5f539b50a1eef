/**
 * Prediction batches (typed arrays) and the blocks made from them (batch-block.ts): each block read back with the
 * reader and compared field by field with the records it was made from; the block maker also evaluated from its own
 * text in an empty context, as the SQLite writer thread runs it.
 */
import { runInNewContext } from 'node:vm';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { BatchBlockReader, BLOCK_HEADER_BYTES, predictionBatchBlocks, type BatchBlockRow } from '../../src/outcomes/batch-block.js';
import { BATCH_LAYOUT, PredictionBatchBuilder, predictionBatchOf } from '../../src/outcomes/prediction-batch.js';
import { predictionIdTime } from '../../src/outcomes/prediction-records.js';
import type { PredictionRecord } from '../../src/outcomes/store.js';
const width = FEATURE_NAMES.length;

function record(i: number): PredictionRecord {
  const features = Array.from({ length: width }, (_, j) => ((i + j) % 5 === 0 ? null : (i * 31 + j * 7) / 4));
  const received =
    i % 4 === 0
      ? { note: `naïve ✓ 😀 ${'x'.repeat(i * 50)}`, age: 40 + i } // multi-byte text; long enough to grow the buffer
      : Object.fromEntries(FEATURE_NAMES.map((name, j) => [name, features[j]]));
  return {
    id: uuidv7(),
    createdAt: new Date(Date.UTC(2026, 11, 6, 12, 0, 0, i * 3)).toISOString(),
    modelVersion: i % 3 === 0 ? 'v-a' : i % 3 === 1 ? 'v-b' : 'v-c',
    route: i % 2 === 0 ? 'predict' : 'v2',
    ...(i % 5 === 0 ? { received: undefined, receivedJson: JSON.stringify(received) } : { received }),
    features,
    imputed: FEATURE_NAMES.filter((_, j) => features[j] === null),
    probability: ((i * 37) % 100) / 101,
    label: i % 2 === 0 ? 0 : 1,
  };
}

/** The JSON text a record is stored with: as received when kept, else its `received` value as JSON. */
const receivedText = (r: PredictionRecord) => r.receivedJson ?? JSON.stringify(r.received ?? null);

/** Every field of a block row, read back, against the records it should hold (in order). */
function expectBlockHolds(row: BatchBlockRow, records: readonly PredictionRecord[]) {
  const ids = records.map((r) => r.id).sort();
  const times = records.map((r) => r.createdAt).sort();
  expect(row.slice(0, 6)).toEqual([
    ids[0],
    ids.at(-1),
    Math.floor(predictionIdTime(records[0]!.id)! / 1000),
    times[0],
    times.at(-1),
    records.length,
  ]);
  const reader = new BatchBlockReader(row[6], BATCH_LAYOUT.idChars);
  expect(reader.rows).toBe(records.length);
  for (const [i, r] of records.entries()) {
    expect(reader.prediction(i)).toEqual({
      id: r.id,
      createdMs: Date.parse(r.createdAt),
      modelVersion: r.modelVersion,
      route: r.route,
      receivedJson: receivedText(r),
      features: r.features.map((v) => v ?? Number.NaN),
      probability: r.probability,
      label: r.label,
    });
    expect(reader.indexOf(r.id)).toBe(i);
  }
  expect(reader.indexOf(uuidv7())).toBe(-1);
}

describe('prediction batches', () => {
  const records = Array.from({ length: 40 }, (_, i) => record(i));
  // Ids from two seconds, so that the blocks split.
  const spread = records.map((r, i) => ({ ...r, id: uuidv7({ msecs: Date.UTC(2026, 11, 6, 12, 0, i < 25 ? 0 : 1, i) }) }));

  it('give back every field of every record from blocks, one per run of ids made in the same second', () => {
    const rows = predictionBatchBlocks(predictionBatchOf(spread), BATCH_LAYOUT);
    expect(rows).toHaveLength(2);
    expectBlockHolds(rows[0]!, spread.slice(0, 25));
    expectBlockHolds(rows[1]!, spread.slice(25));
  });

  it('make the same blocks where the maker runs from its own text, with nothing of this module in scope', () => {
    const standalone = runInNewContext(`var __name = (target) => target; (${predictionBatchBlocks.toString()})`, {
      TextDecoder,
      TextEncoder,
    }) as typeof predictionBatchBlocks;
    const batch = predictionBatchOf(spread);
    const made = standalone(batch, BATCH_LAYOUT);
    // Typed arrays made in another context are not this context's Uint8Array: compared as plain values.
    const plain = (rows: BatchBlockRow[]) => rows.map((row) => [...row.slice(0, 6), Array.from(row[6])]);
    expect(plain(made)).toEqual(plain(predictionBatchBlocks(batch, BATCH_LAYOUT)));
  });

  it('survive a structured clone (what goes to the writer thread, sharing the memory)', () => {
    const [row] = predictionBatchBlocks(structuredClone(predictionBatchOf(records)), BATCH_LAYOUT);
    expectBlockHolds(row!, records);
  });

  it('keep text received over several lines, and multi-byte text, as it came', () => {
    const pretty = records.slice(0, 6).map((r, k) => ({
      ...r,
      received: undefined,
      receivedJson: JSON.stringify({ a: [1, 2], b: `x\ny ✓ ${k}` }, null, 2).replace(/\n/g, '\r\n'),
    }));
    const [row] = predictionBatchBlocks(predictionBatchOf(pretty), BATCH_LAYOUT);
    expectBlockHolds(row!, pretty);
  });

  it('are refused by the reader when of another format or when their sizes do not add up', () => {
    const [row] = predictionBatchBlocks(predictionBatchOf(records.slice(0, 3)), BATCH_LAYOUT);
    const block = row![6];
    const otherFormat = block.slice();
    otherFormat[0] = 9;
    expect(() => new BatchBlockReader(otherFormat, BATCH_LAYOUT.idChars)).toThrow(/format 9 is not known here \(this version reads 1\)/);
    expect(() => new BatchBlockReader(block.subarray(0, block.length - 1), BATCH_LAYOUT.idChars)).toThrow(
      /names take \d+ bytes, not the \d+ left after its rows/,
    );
    expect(() => new BatchBlockReader(block.subarray(0, 100), BATCH_LAYOUT.idChars)).toThrow(
      /of 3 rows has more than \d+ bytes; this one has 100/,
    );
    expect(() => new BatchBlockReader(block.subarray(0, BLOCK_HEADER_BYTES - 1), BATCH_LAYOUT.idChars)).toThrow(/at least 16 bytes/);
  });

  it('refuse a row beyond their capacity, and an id that is not a UUID', () => {
    const builder = new PredictionBatchBuilder(1);
    const row = new Array<number>(width).fill(1);
    expect(() => builder.add('not-a-uuid', 0, 'v', 'predict', '{}', row, 0.5, 1)).toThrow(/36 characters/);
    builder.add(uuidv7(), 0, 'v', 'predict', '{}', row, 0.5, 1);
    expect(builder.full).toBe(true);
    expect(() => builder.add(uuidv7(), 0, 'v', 'predict', '{}', row, 0.5, 1)).toThrow(/full/);
  });

  it('refuse a record whose time is not ISO 8601 UTC (it would not come back the same)', () => {
    expect(() => predictionBatchOf([{ ...record(1), createdAt: '2026-12-06 12:00:00' }])).toThrow(/ISO 8601/);
  });
});
