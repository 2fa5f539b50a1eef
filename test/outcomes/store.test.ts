/**
 * The prediction store against real databases: SQLite (node:sqlite, a file) and a throwaway PostgreSQL server. The
 * same behaviour is asserted for both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictionBatchOf } from '../../src/outcomes/prediction-batch.js';
import { openPredictionStore } from '../../src/outcomes/open-store.js';
import { MIGRATIONS } from '../../src/outcomes/schema.js';
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

/** Run one statement on the store's database over a connection of the test's own (PostgreSQL's $n placeholders). */
type RawSql = (sql: string, params: readonly (string | number)[]) => Promise<void>;

/**
 * A batch row as migration 2 wrote it, before blocks: JSON lines in `predictions` (the predictions table's columns as
 * one array per line), `block` NULL. Made here the obvious way, with JSON.stringify.
 */
function legacyBatchRow(records: readonly PredictionRecord[]): (string | number)[] {
  const ids = records.map((r) => r.id).sort();
  const times = records.map((r) => r.createdAt).sort();
  const lines = records.map((r) =>
    JSON.stringify([r.id, r.createdAt, r.modelVersion, r.route, r.received, r.features, r.imputed, r.probability, r.label]),
  );
  return [ids[0]!, ids.at(-1)!, Math.floor(Date.parse(times[0]!) / 1000), times[0]!, times.at(-1)!, records.length, lines.join('\n')];
}

function storeContract(open: () => Promise<PredictionStore>, raw: () => RawSql) {
  let store: PredictionStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });

  // Created a second apart from 2026-01-01T00:00:00Z; ids made now, in one or two seconds: one or two blocks.
  const records30 = Array.from({ length: 30 }, (_, i) => record(i));

  it('stores predictions as given, and a repeated append does not duplicate', async () => {
    await store.append([predictionBatchOf(records30)]);
    await store.append([predictionBatchOf(records30.slice(0, 5))]);
    expect(await store.count()).toBe(30);
    const found = await store.find([records30[7]!.id, records30[8]!.id, 'no-such-id']);
    expect(found.sort((a, b) => a.createdAt.localeCompare(b.createdAt))).toEqual([records30[7], records30[8]]);
  });

  it('stores a batch whose ids span seconds as a row per second, in one insert, and finds each prediction', async () => {
    const at = Date.UTC(2026, 5, 1, 0, 0, 0);
    const spread = Array.from({ length: 9 }, (_, i) => record(300 + i, { id: uuidv7({ msecs: at + Math.floor(i / 3) * 1000 + i }) }));
    const before = await store.count();
    await store.append([predictionBatchOf(spread)]);
    expect(await store.count()).toBe(before + 9);
    const found = await store.find(spread.map((r) => r.id));
    expect(found.sort((a, b) => a.createdAt.localeCompare(b.createdAt))).toEqual(spread);
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
    // The block that straddled the cutoff keeps its newer predictions, as they were.
    const kept = await store.find([records30[10]!.id, records30[29]!.id, records30[9]!.id]);
    expect(kept.sort((a, b) => a.createdAt.localeCompare(b.createdAt))).toEqual([records30[10], records30[29]]);
  });

  it('reads batch rows written before blocks (JSON lines): lookups, outcomes, counts and retention', async () => {
    // Ids made in one second, as a batch row's are; times in 2025, before everything else in this store.
    const second = Date.UTC(2025, 5, 1, 0, 0, 0);
    const legacy = Array.from({ length: 6 }, (_, i) =>
      record(i, { id: uuidv7({ msecs: second + i }), createdAt: new Date(Date.UTC(2025, 5, 1, 0, 0, 0) + i * 60_000).toISOString() }),
    );
    const before = await store.count();
    await raw()(
      'INSERT INTO prediction_batches (first_id, last_id, second, created_from, created_to, row_count, predictions) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      legacyBatchRow(legacy),
    );
    expect(await store.count()).toBe(before + 6);
    const found = await store.find([legacy[1]!.id, legacy[4]!.id]);
    expect(found.sort((a, b) => a.createdAt.localeCompare(b.createdAt))).toEqual([legacy[1], legacy[4]]);
    expect(await store.recordOutcomes([{ predictionId: legacy[4]!.id, outcome: 1 }])).toEqual([
      { predictionId: legacy[4]!.id, status: 'recorded', storedOutcome: 1 },
    ]);
    // Retention through the middle of the row: its first three lines go, the rest stay readable.
    expect(await store.deleteCreatedBefore(legacy[3]!.createdAt)).toBe(3);
    expect(await store.count()).toBe(before + 3);
    expect(await store.find([legacy[0]!.id, legacy[3]!.id])).toEqual([legacy[3]]);
  });
}

describe('SQLite prediction store', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prediction-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'nested', 'log.sqlite');
  storeContract(
    () => openPredictionStore({ sqlitePath: file }),
    () => async (sql, params) => {
      const db = new DatabaseSync(file);
      try {
        db.exec('PRAGMA busy_timeout = 5000');
        db.prepare(sql.replace(/\$(\d+)/g, '?$1')).run(...params);
      } finally {
        db.close();
      }
    },
  );

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

  it('records every migration, the PostgreSQL-only one included, so versions stay aligned across databases', async () => {
    const file = path.join(dir, 'migrations.sqlite');
    const store = await openPredictionStore({ sqlitePath: file });
    await store.close();
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
        (r) => r.version,
      );
      expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
      expect(MIGRATIONS.some((m) => m.only === 'postgresql')).toBe(true);
    } finally {
      db.close();
    }
  });

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
  let contractUrl = '';
  storeContract(
    () => openPredictionStore({ databaseUrl: (contractUrl = server.createDatabase('contract')), sqlitePath: 'unused' }),
    () => async (sql, params) => {
      const client = new pg.Client({ connectionString: contractUrl });
      await client.connect();
      try {
        await client.query(sql, params as (string | number)[]);
      } finally {
        await client.end();
      }
    },
  );

  it('stores blocks lz4-compressed where the server has lz4 (migration 4), pglz otherwise, and reads them back', async () => {
    const url = server.createDatabase('compression');
    const store = await openPredictionStore({ databaseUrl: url, sqlitePath: 'unused' });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // 300 predictions made together: blocks well over TOAST's ~2 KB threshold, so PostgreSQL compresses them.
      const records = Array.from({ length: 300 }, (_, i) => record(i, { createdAt: '2026-01-01T00:00:00.000Z' }));
      await store.append([predictionBatchOf(records)]);
      const lz4 = (await client.query("SELECT 'lz4' = ANY(enumvals) AS has FROM pg_settings WHERE name = 'default_toast_compression'"))
        .rows[0] as { has: boolean } | undefined;
      const column = await client.query(
        "SELECT attcompression FROM pg_attribute WHERE attrelid = 'prediction_batches'::regclass AND attname = 'block'",
      );
      const stored = await client.query(
        'SELECT pg_column_compression(block) AS method FROM prediction_batches WHERE length(block) > 4096 ORDER BY row_count DESC',
      );
      expect(stored.rows.length).toBeGreaterThan(0);
      if (lz4?.has) {
        expect(column.rows[0].attcompression).toBe('l');
        for (const row of stored.rows) expect(row.method).toBe('lz4');
      } else {
        expect(column.rows[0].attcompression).toBe('');
      }
      const found = await store.find(records.map((r) => r.id));
      expect(found).toHaveLength(records.length);
      expect(await store.recordOutcomes([{ predictionId: records[150]!.id, outcome: 1 }])).toEqual([
        { predictionId: records[150]!.id, status: 'recorded', storedOutcome: 1 },
      ]);
    } finally {
      await client.end();
      await store.close();
    }
  });

  it('two stores opening the same database at once both migrate it safely', async () => {
    const url = server.createDatabase('concurrent');
    const stores = await Promise.all([1, 2, 3].map(() => openPredictionStore({ databaseUrl: url, sqlitePath: 'unused' })));
    await stores[0]!.append([predictionBatchOf([record(1)])]);
    expect(await stores[2]!.count()).toBe(1);
    await Promise.all(stores.map((s) => s.close()));
  });
});
