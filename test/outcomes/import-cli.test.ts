/**
 * npm run feedback:import: outcomes from a CSV or JSON file recorded in the prediction log (SQLite file and a real
 * PostgreSQL), with the same rules as POST /feedback, and a file with a bad value refused whole, naming line, field
 * and rule.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictionBatchOf } from '../../src/outcomes/prediction-batch.js';
import { openPredictionStore, type StoreConfig } from '../../src/outcomes/open-store.js';
import type { PredictionRecord } from '../../src/outcomes/store.js';
import { runTs } from '../support/run-cli.js';
import { havePostgres, startPostgres, type PostgresServer } from '../support/postgres.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'feedback-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (i: number): PredictionRecord => ({
  id: uuidv7(),
  createdAt: new Date().toISOString(),
  modelVersion: 'v-import',
  route: 'predict',
  received: {},
  features: Array.from({ length: 13 }, () => null),
  imputed: [],
  probability: i / 10,
  label: i >= 5 ? 1 : 0,
});

async function seed(config: StoreConfig, n: number): Promise<PredictionRecord[]> {
  const store = await openPredictionStore(config);
  const records = Array.from({ length: n }, (_, i) => record(i));
  await store.append([predictionBatchOf(records)]);
  await store.recordOutcomes([{ predictionId: records[0]!.id, outcome: 1 }]);
  await store.close();
  return records;
}

const importFile = (args: string[]) => runTs('src/outcomes/import-cli.ts', args);

function importContract(config: () => StoreConfig, storeArgs: () => string[]) {
  it('records a CSV: new outcomes recorded, a repeat unchanged, a contradiction and an unknown id reported (exit 1)', async () => {
    const records = await seed(config(), 4);
    const unknown = uuidv7();
    const csv = path.join(dir, `outcomes-${Date.now()}.csv`);
    writeFileSync(
      csv,
      [
        'predictionId,outcome,observedAt',
        `${records[0]!.id},1,`,
        `${records[1]!.id},0,2026-11-30T08:00:00Z`,
        `${records[2]!.id},1,`,
        `${unknown},1,`,
      ].join('\n'),
    );
    const run = await importFile(['--file', csv, ...storeArgs()]);
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ items: 4, recorded: 2, unchanged: 1, conflict: 0, not_found: 1 });
    expect(run.stderr).toContain(`${unknown}: no logged prediction has this id`);

    const conflicting = path.join(dir, `conflict-${Date.now()}.json`);
    writeFileSync(
      conflicting,
      JSON.stringify([
        { predictionId: records[1]!.id, outcome: 1 },
        { predictionId: records[3]!.id, outcome: 0 },
      ]),
    );
    const second = await importFile(['--file', conflicting, ...storeArgs()]);
    expect(second.code).toBe(1);
    expect(JSON.parse(second.stdout)).toMatchObject({ recorded: 1, conflict: 1 });
    expect(second.stderr).toContain(`${records[1]!.id}: conflict, stored outcome 0`);

    const store = await openPredictionStore(config());
    const labelled = await store.labelled({ modelVersion: 'v-import' });
    await store.close();
    const byId = new Map(labelled.map((r) => [r.id, r]));
    expect(records.map((r) => byId.get(r.id)?.outcome)).toEqual([1, 0, 1, 0]);
    expect(byId.get(records[1]!.id)!.observedAt).toBe('2026-11-30T08:00:00.000Z');
  });
}

describe('feedback:import into SQLite', () => {
  const sqlitePath = path.join(dir, 'log.sqlite');
  importContract(
    () => ({ sqlitePath }),
    () => ['--sqlite-path', sqlitePath],
  );

  it('refuses a file with bad values whole, naming line, field and rule (exit 2), and records nothing', async () => {
    const records = await seed({ sqlitePath }, 2);
    const csv = path.join(dir, 'bad.csv');
    writeFileSync(
      csv,
      ['predictionId,outcome,observedAt', `${records[1]!.id},1,`, `not-an-id,2,`, `${records[1]!.id},1,last tuesday`].join('\n'),
    );
    const run = await importFile(['--file', csv, '--sqlite-path', sqlitePath]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('line 3 predictionId: must be a UUID');
    expect(run.stderr).toContain('line 3 outcome: must be one of the allowed values');
    expect(run.stderr).toContain('line 4 observedAt: must be an RFC 3339 date-time');
    const store = await openPredictionStore({ sqlitePath });
    expect((await store.labelled()).some((r) => r.id === records[1]!.id)).toBe(false);
    await store.close();
  });

  it('names a bad option and shows the usage (exit 2)', async () => {
    const run = await importFile(['--file', 'outcomes.txt']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--file.*pattern|--file: must/);
    expect(run.stderr).toContain('Usage: npm run feedback:import');
  });
});

describe.runIf(havePostgres())('feedback:import into PostgreSQL', () => {
  let pg: PostgresServer;
  let databaseUrl = '';
  beforeAll(async () => {
    pg = await startPostgres();
    databaseUrl = pg.createDatabase('imports');
  });
  afterAll(async () => {
    await pg?.stop();
  });
  importContract(
    () => ({ databaseUrl, sqlitePath: 'unused' }),
    () => ['--database-url', databaseUrl],
  );
});
