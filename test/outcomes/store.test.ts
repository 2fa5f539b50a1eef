/**
 * The prediction store against real databases: SQLite (node:sqlite, a file) and a throwaway PostgreSQL server. The
 * same behaviour is asserted for both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictionBatchOf } from '../../src/outcomes/prediction-batch.js';
import { openPredictionStore } from '../../src/outcomes/open-store.js';
import { SQLITE_PAGE_BYTES } from '../../src/outcomes/sqlite.js';
import type { PredictionRecord, PredictionStore } from '../../src/outcomes/store.js';
import { havePostgres, startPostgres, type PostgresServer } from '../support/postgres.js';

function record(i: number, overrides: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    id: uuidv7(),
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    modelVersion: i % 2 === 0 ? 'v-even' : 'v-odd',
    route: i % 3 === 0 ? 'v2' : 'predict',
    received: { age: 40 + i, chol: null },
    features: [40 + i, 1, 2, 130, null, 0, 0, 150, 0, 1.5, 1, null, 3],
    imputed: ['chol', 'ca'],
    probability: (i + 0.5) / 100,
    label: i % 2 === 0 ? 0 : 1,
    ...overrides,
  };
}

function storeContract(open: () => Promise<PredictionStore>) {
  let store: PredictionStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores predictions as given, and a repeated append does not duplicate', async () => {
    const records = Array.from({ length: 30 }, (_, i) => record(i));
    await store.append([predictionBatchOf(records)]);
    await store.append([predictionBatchOf(records.slice(0, 5))]);
    expect(await store.count()).toBe(30);
    const found = await store.find([records[7]!.id, records[8]!.id, 'no-such-id']);
    expect(found.sort((a, b) => a.createdAt.localeCompare(b.createdAt))).toEqual([records[7], records[8]]);
  });

  it('records outcomes: recorded, unchanged on repeat, conflict on contradiction, not_found on unknown ids', async () => {
    const [a, b] = [record(100), record(101)];
    await store.append([predictionBatchOf([a, b])]);
    const first = await store.recordOutcomes([
      { predictionId: a.id, outcome: 1, observedAt: '2026-02-01T00:00:00.000Z' },
      { predictionId: b.id, outcome: 0 },
    ]);
    expect(first.map((r) => r.status)).toEqual(['recorded', 'recorded']);
    const again = await store.recordOutcomes([
      { predictionId: a.id, outcome: 1, observedAt: '2026-03-01T00:00:00.000Z' },
      { predictionId: b.id, outcome: 1 },
      { predictionId: uuidv7(), outcome: 1 },
    ]);
    expect(again).toEqual([
      { predictionId: a.id, status: 'unchanged', storedOutcome: 1 },
      { predictionId: b.id, status: 'conflict', storedOutcome: 0 },
      { predictionId: again[2]!.predictionId, status: 'not_found' },
    ]);
    const [labelledA] = await store.labelled({ modelVersion: a.modelVersion, since: '2026-02-01T00:00:00.000Z' });
    // The first observation is kept: a repeat changes nothing.
    expect(labelledA).toMatchObject({ id: a.id, outcome: 1, observedAt: '2026-02-01T00:00:00.000Z', probability: a.probability });
  });

  it('lists labelled predictions oldest first, filtered by version and observation time, the most recent `limit`', async () => {
    const records = Array.from({ length: 10 }, (_, i) => record(200 + i));
    await store.append([predictionBatchOf(records)]);
    await store.recordOutcomes(
      records.map((r, i) => ({ predictionId: r.id, outcome: (i % 2) as 0 | 1, observedAt: `2027-01-0${1 + (i % 9)}T00:00:00.000Z` })),
    );
    const even = await store.labelled({ modelVersion: 'v-even', since: '2027-01-01T00:00:00.000Z' });
    expect(even.map((r) => r.id)).toEqual(records.filter((r) => r.modelVersion === 'v-even').map((r) => r.id));
    const lastThree = await store.labelled({ since: '2027-01-01T00:00:00.000Z', limit: 3 });
    expect(lastThree.map((r) => r.id)).toEqual(records.slice(-3).map((r) => r.id));
    expect(lastThree[0]!.features).toEqual(records[7]!.features);
    expect(await store.countLabelled({ since: '2027-01-01T00:00:00.000Z' })).toBe(10);
    expect(await store.countLabelled()).toBe(12);
    expect(await store.labelledVersions()).toEqual(['v-even', 'v-odd']);
  });

  it('deletes predictions older than the retention cutoff', async () => {
    const before = await store.count();
    const removed = await store.deleteCreatedBefore('2026-01-01T00:00:10.000Z');
    expect(removed).toBe(10);
    expect(await store.count()).toBe(before - 10);
  });
}

describe('SQLite prediction store', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prediction-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  storeContract(() => openPredictionStore({ sqlitePath: path.join(dir, 'nested', 'log.sqlite') }));

  it('opens an existing database again without re-running its migrations', async () => {
    const file = path.join(dir, 'reopen.sqlite');
    const first = await openPredictionStore({ sqlitePath: file });
    await first.append([predictionBatchOf([record(1)])]);
    await first.close();
    const second = await openPredictionStore({ sqlitePath: file });
    expect(await second.count()).toBe(1);
    await second.close();
  });

  const pageSize = (file: string): number => {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return Number((db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size);
    } finally {
      db.close();
    }
  };

  it(`makes a new log file with ${SQLITE_PAGE_BYTES}-byte pages`, async () => {
    const file = path.join(dir, 'new-pages.sqlite');
    const store = await openPredictionStore({ sqlitePath: file });
    await store.append([predictionBatchOf([record(1)])]);
    await store.close();
    expect(pageSize(file)).toBe(SQLITE_PAGE_BYTES);
  });

  it('opens a log file made with 4 KiB pages (before that setting) as it is, and writes to it', async () => {
    const file = path.join(dir, 'old-pages.sqlite');
    const old = new DatabaseSync(file);
    old.exec('PRAGMA page_size = 4096');
    old.exec('PRAGMA journal_mode = WAL');
    old.exec('CREATE TABLE kept (x INTEGER)');
    old.close();
    const store = await openPredictionStore({ sqlitePath: file });
    await store.append([predictionBatchOf([record(1), record(2)])]);
    expect(await store.count()).toBe(2);
    await store.close();
    expect(pageSize(file)).toBe(4096);
  });
});

describe.runIf(havePostgres())('PostgreSQL prediction store', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });
  storeContract(() => openPredictionStore({ databaseUrl: server.createDatabase('contract'), sqlitePath: 'unused' }));

  it('two stores opening the same database at once both migrate it safely', async () => {
    const url = server.createDatabase('concurrent');
    const stores = await Promise.all([1, 2, 3].map(() => openPredictionStore({ databaseUrl: url, sqlitePath: 'unused' })));
    await stores[0]!.append([predictionBatchOf([record(1)])]);
    expect(await stores[2]!.count()).toBe(1);
    await Promise.all(stores.map((s) => s.close()));
  });
});
