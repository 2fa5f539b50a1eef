/**
 * Retraining reads the API's prediction log through the same settings the API uses (PREDICTION_LOG_PATH for SQLite,
 * DATABASE_URL for PostgreSQL): only labelled predictions, features in schema order with missing values as NaN, the
 * observed outcome (not the predicted label), counts since a time; a path where no log exists is refused, not created.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictionBatchOf } from '../../src/outcomes/prediction-batch.js';
import { FEATURES } from '../../src/features/feature-schema.js';
import { openPredictionStore } from '../../src/outcomes/open-store.js';
import type { PredictionRecord } from '../../src/outcomes/store.js';
import { openLabelledSource } from '../../src/retrain/open-labelled-source.js';
import { havePostgres, INSTALL_POSTGRESQL, startPostgres, type PostgresServer } from '../support/postgres.js';
import { realComponent } from '../support/real-component.js';

function record(i: number): PredictionRecord {
  return {
    id: uuidv7(),
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    modelVersion: 'v1',
    route: 'predict',
    received: {},
    features: [40 + i, 1, 2, 130, null, 0, 0, 150, 0, 1.5, 1, null, 3],
    imputed: ['chol', 'ca'],
    probability: 0.8,
    label: 1,
  };
}

/** Ten predictions, six with outcomes (0 for even i: the opposite of the predicted label), observed on two days. */
async function fill(config: { databaseUrl?: string | null; sqlitePath: string }) {
  const store = await openPredictionStore(config);
  const records = Array.from({ length: 10 }, (_, i) => record(i));
  await store.append([predictionBatchOf(records)]);
  await store.recordOutcomes(
    records.slice(0, 6).map((r, i) => ({
      predictionId: r.id,
      outcome: i % 2 === 0 ? (0 as const) : (1 as const),
      observedAt: i < 3 ? '2026-02-01T00:00:00Z' : '2026-03-01T00:00:00Z',
    })),
  );
  await store.close();
}

async function expectRows(env: NodeJS.ProcessEnv) {
  const source = await openLabelledSource({ files: [], env, features: FEATURES });
  try {
    const rows = await source.rows();
    expect(rows).toHaveLength(6);
    expect(rows.map((r) => r.outcome)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(rows[0]!.features).toHaveLength(FEATURES.length);
    expect(rows[0]!.features[0]).toBe(40);
    expect(Number.isNaN(rows[0]!.features[4]!)).toBe(true);
    expect(await source.count()).toBe(6);
    expect(await source.count('2026-02-15T00:00:00.000Z')).toBe(3);
  } finally {
    await source.close();
  }
}

describe('labelled rows from the prediction log', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hd-labelled-log-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('SQLite (PREDICTION_LOG_PATH)', async () => {
    const sqlitePath = path.join(dir, 'log.sqlite');
    await fill({ sqlitePath });
    await expectRows({ PREDICTION_LOG_PATH: sqlitePath });
  });

  it('a PREDICTION_LOG_PATH where no log exists is refused with the way out, and not created', async () => {
    const missing = path.join(dir, 'nowhere', 'log.sqlite');
    await expect(openLabelledSource({ files: [], env: { PREDICTION_LOG_PATH: missing }, features: FEATURES })).rejects.toThrow(
      `no prediction log at ${missing} (PREDICTION_LOG_PATH); set it or DATABASE_URL to the API's, or pass --labelled <file>`,
    );
    expect(existsSync(missing)).toBe(false);
  });

  describe.runIf(realComponent('postgresql', havePostgres(), `no PostgreSQL binaries; run ${INSTALL_POSTGRESQL}`))('PostgreSQL', () => {
    let server: PostgresServer;
    beforeAll(async () => {
      server = await startPostgres();
    });
    afterAll(async () => {
      await server?.stop();
    });
    it('DATABASE_URL (PREDICTION_LOG_PATH ignored)', async () => {
      const databaseUrl = server.createDatabase('retrain');
      await fill({ databaseUrl, sqlitePath: 'unused' });
      await expectRows({ DATABASE_URL: databaseUrl, PREDICTION_LOG_PATH: path.join(dir, 'not-there.sqlite') });
    });
  });
});
