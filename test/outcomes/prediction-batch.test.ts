/**
 * Prediction batches (typed arrays) and the SQL rows made from them: checked against rows built independently from
 * the same records with JSON.stringify, and with the row maker evaluated from its own text in an empty context, as the
 * SQLite writer process runs it.
 */
import { runInNewContext } from 'node:vm';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { predictionSqlRows } from '../../src/outcomes/batch-rows.js';
import { BATCH_LAYOUT, PredictionBatchBuilder, predictionBatchOf } from '../../src/outcomes/prediction-batch.js';
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

/** The columns of INSERT_PREDICTION, made the obvious way. */
const expectedRow = (r: PredictionRecord) => [
  r.id,
  r.createdAt,
  r.modelVersion,
  r.route,
  r.receivedJson ?? JSON.stringify(r.received),
  JSON.stringify(r.features),
  JSON.stringify(r.imputed),
  r.probability,
  r.label,
];

describe('prediction batches', () => {
  const records = Array.from({ length: 40 }, (_, i) => record(i));

  it('give back every field of every record as its SQL row', () => {
    expect(predictionSqlRows(predictionBatchOf(records), BATCH_LAYOUT)).toEqual(records.map(expectedRow));
  });

  it('make the same rows where the row maker runs from its own text, with nothing of this module in scope', () => {
    const standalone = runInNewContext(`var __name = (target) => target; (${predictionSqlRows.toString()})`, {
      TextDecoder,
    }) as typeof predictionSqlRows;
    const batch = predictionBatchOf(records);
    expect(JSON.stringify(standalone(batch, BATCH_LAYOUT))).toBe(JSON.stringify(records.map(expectedRow)));
  });

  it('survive a structured clone (what goes to the writer process)', () => {
    const batch = structuredClone(predictionBatchOf(records));
    expect(predictionSqlRows(batch, BATCH_LAYOUT)).toEqual(records.map(expectedRow));
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
