/**
 * Nothing accepted is lost on SIGTERM: the real server process under concurrent /predict load is sent SIGTERM
 * mid-load; afterwards every prediction that was answered 200 is in the prediction log. The log is set to write only
 * when told (flush interval and batch size far beyond the test), so the drain's flush is what writes them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPredictionStore, type StoreConfig } from '../../src/outcomes/open-store.js';
import { PATIENT } from '../api/support/app.js';
import { testModelDir } from '../api/support/model.js';
import { startServerProcess } from '../api/support/server-process.js';
import { havePostgres, startPostgres, type PostgresServer } from '../support/postgres.js';

const WORKERS = 16;
/** After SIGTERM the server keeps serving this long (/ready 503), as a load balancer takes it out of rotation. */
const SHUTDOWN_DELAY_MS = 300;
/** Bounds of the load: it stops by itself. */
const MAX_REQUESTS_PER_WORKER = 2000;
const MAX_LOAD_MS = 30_000;

async function sigtermUnderLoad(env: Record<string, string>, store: StoreConfig) {
  const server = await startServerProcess({
    MODEL_DIR: testModelDir(),
    PREDICTION_LOG_FLUSH_MS: '60000',
    PREDICTION_LOG_BATCH_ROWS: '100000',
    SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
    SHUTDOWN_GRACE_MS: '20000',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const accepted: string[] = [];
  let refused = 0;
  let sigtermAt = Number.POSITIVE_INFINITY;
  const deadline = performance.now() + MAX_LOAD_MS;
  const worker = async (w: number) => {
    // Like clients behind a load balancer: no new request once the server has left the rotation (SHUTDOWN_DELAY_MS
    // after SIGTERM); requests already sent are answered, and every 200 among them must be in the log.
    for (let i = 0; i < MAX_REQUESTS_PER_WORKER && performance.now() < deadline && performance.now() < sigtermAt + SHUTDOWN_DELAY_MS; i++) {
      const batch = (w + i) % 5 === 0;
      try {
        const res = await fetch(`${server.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(batch ? { instances: [PATIENT, { ...PATIENT, age: 40 + (i % 30) }] } : { ...PATIENT, age: 30 + (i % 40) }),
        });
        const body = (await res.json()) as { predictionId?: string; predictions?: { predictionId: string }[] };
        if (res.status === 200) accepted.push(...(body.predictions?.map((p) => p.predictionId) ?? [body.predictionId!]));
      } catch {
        // The listener is closed: the server is going away. Stop once it is past SIGTERM.
        refused++;
        if (performance.now() > sigtermAt) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  // Mid-load: after some predictions were answered.
  while (accepted.length < 300 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const beforeSigterm = accepted.length;
  sigtermAt = performance.now();
  server.child.kill('SIGTERM');
  const [exit] = await Promise.all([server.exited, load]);
  expect(exit.code, server.output().slice(-2000)).toBe(0);
  expect(beforeSigterm).toBeGreaterThanOrEqual(300);
  // Requests kept being answered after SIGTERM (SHUTDOWN_DELAY_MS), so the drain had work in flight.
  expect(accepted.length).toBeGreaterThan(beforeSigterm);

  const log = await openPredictionStore(store);
  try {
    const found = await log.find(accepted);
    expect(new Set(accepted).size).toBe(accepted.length);
    expect(found.length).toBe(accepted.length);
    expect(await log.count()).toBe(accepted.length);
  } finally {
    await log.close();
  }
  return { accepted: accepted.length, refused };
}

describe('SIGTERM under load: every accepted prediction is in the log', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shutdown-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('SQLite', async () => {
    const sqlitePath = path.join(dir, 'log.sqlite');
    const result = await sigtermUnderLoad({ PREDICTION_LOG_PATH: sqlitePath }, { sqlitePath });
    console.log(`SIGTERM under load (SQLite): ${result.accepted} predictions answered 200, all in the log`);
  });
});

describe.runIf(havePostgres())('SIGTERM under load: every accepted prediction is in the log (PostgreSQL)', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('PostgreSQL', async () => {
    const databaseUrl = pg.createDatabase('shutdown');
    const result = await sigtermUnderLoad({ DATABASE_URL: databaseUrl }, { databaseUrl, sqlitePath: 'unused' });
    console.log(`SIGTERM under load (PostgreSQL): ${result.accepted} predictions answered 200, all in the log`);
  });
});
