/**
 * Prediction batches (typed arrays) and the batch rows made from them: checked against rows built independently from
 * the same records with JSON.stringify, and with the row maker evaluated from its own text in an empty context, as the
 * SQLite writer thread runs it.
 */
import { runInNewContext } from 'node:vm';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { predictionBatchRows } from '../../src/outcomes/batch-rows.js';
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

/** A prediction's line: the predictions table's columns as one JSON array, made the obvious way. */
const expectedLine = (r: PredictionRecord) =>
  JSON.stringify([
    r.id,
    r.createdAt,
    r.modelVersion,
    r.route,
    r.receivedJson === undefined ? r.received : JSON.parse(r.receivedJson),
    r.features,
    r.imputed,
    r.probability,
    r.label,
  ]);

/** The batch rows: one per second of the ids, in order of first appearance. */
function expectedRows(records: readonly PredictionRecord[]) {
  const bySecond = new Map<number, PredictionRecord[]>();
  for (const r of records) {
    const second = Math.floor(predictionIdTime(r.id)! / 1000);
    bySecond.set(second, [...(bySecond.get(second) ?? []), r]);
  }
  return [...bySecond].map(([second, rs]) => {
    const ids = rs.map((r) => r.id).sort();
    const times = rs.map((r) => r.createdAt).sort();
    return [ids[0], ids.at(-1), second, times[0], times.at(-1), rs.length, rs.map(expectedLine).join('\n')];
  });
}

describe('prediction batches', () => {
  const records = Array.from({ length: 40 }, (_, i) => record(i));

  it('give back every field of every record, a line each, in one row per second of their ids', () => {
    // Ids from two seconds, so that the rows split.
    const spread = records.map((r, i) => ({ ...r, id: uuidv7({ msecs: Date.UTC(2026, 11, 6, 12, 0, i < 25 ? 0 : 1, i) }) }));
    const rows = predictionBatchRows(predictionBatchOf(spread), BATCH_LAYOUT);
    expect(rows).toHaveLength(2);
    expect(rows).toEqual(expectedRows(spread));
  });

  it('make the same rows where the row maker runs from its own text, with nothing of this module in scope', () => {
    const standalone = runInNewContext(`var __name = (target) => target; (${predictionBatchRows.toString()})`, {
      TextDecoder,
    }) as typeof predictionBatchRows;
    const batch = predictionBatchOf(records);
    expect(JSON.stringify(standalone(batch, BATCH_LAYOUT))).toBe(JSON.stringify(expectedRows(records)));
  });

  it('survive a structured clone (what goes to the writer thread, sharing the memory)', () => {
    const batch = structuredClone(predictionBatchOf(records));
    expect(predictionBatchRows(batch, BATCH_LAYOUT)).toEqual(expectedRows(records));
  });

  it('keep one prediction per line when the text received was spread over lines', () => {
    const pretty = records
      .slice(0, 6)
      .map((r) => ({ ...r, received: undefined, receivedJson: JSON.stringify({ a: [1, 2], b: 'x\ny' }, null, 2).replace(/\n/g, '\r\n') }));
    const [row] = predictionBatchRows(predictionBatchOf(pretty), BATCH_LAYOUT);
    const lines = String(row![6]).split('\n');
    expect(lines).toHaveLength(6);
    for (const [k, line] of lines.entries()) {
      const values = JSON.parse(line) as unknown[];
      expect(values[0]).toBe(pretty[k]!.id);
      expect(values[4]).toEqual({ a: [1, 2], b: 'x\ny' });
    }
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
