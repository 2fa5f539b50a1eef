/**
 * POST /feedback and GET /performance on the real app (in process, SQLite in memory unless stated): repeats, conflicts,
 * unknown ids, bad input named by field and rule, API keys, per-item batch results, the minimum count, the opt-out,
 * and a store that fails without failing predictions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATIENT, postJson, startApp, type RunningApp } from '../api/support/app.js';
import { parseSamples, sampleValue } from '../api/support/prometheus-text.js';
import { freePort } from '../../scripts/lib/free-port.js';
import { havePostgres, startPostgres } from '../support/postgres.js';
import { OTHER_REPLICA_WRITE_GRACE_MS } from '../../src/api/routes/outcomes.js';
import { newPredictionId, predictionIdTime } from '../../src/outcomes/prediction-records.js';

const KEY = 'feedback-test-key-0123456789';
const auth = { 'x-api-key': KEY };

async function predict(server: RunningApp, patient: Record<string, number | null> = PATIENT): Promise<string> {
  const res = await postJson(`${server.url}/predict`, patient, auth);
  expect(res.status).toBe(200);
  return res.body.predictionId as string;
}

const metrics = async (server: RunningApp) => parseSamples(await (await fetch(`${server.url}/metrics`)).text());

describe('POST /feedback', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startApp({ API_KEYS: KEY, PERFORMANCE_MIN_COUNT: '5' });
  });
  afterAll(() => server.close());

  it('needs the API key like /predict', async () => {
    const id = await predict(server);
    const res = await postJson(`${server.url}/feedback`, { predictionId: id, outcome: 1 });
    expect(res.status).toBe(401);
    expect(res.body.message).toContain('x-api-key');
    expect(
      (await postJson(`${server.url}/feedback`, { predictionId: id, outcome: 1 }, { 'x-api-key': 'wrong-key-0123456789' })).status,
    ).toBe(401);
  });

  it('records an outcome at once after the prediction; a repeat is accepted, a contradiction is 409', async () => {
    const id = await predict(server);
    const first = await postJson(`${server.url}/feedback`, { predictionId: id, outcome: 1, observedAt: '2026-12-01T10:00:00+01:00' }, auth);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ predictionId: id, status: 'recorded', outcome: 1 });
    const repeat = await postJson(`${server.url}/feedback`, { predictionId: id, outcome: 1 }, auth);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual({ predictionId: id, status: 'unchanged', outcome: 1 });
    const contradiction = await postJson(`${server.url}/feedback`, { predictionId: id, outcome: 0 }, auth);
    expect(contradiction.status).toBe(409);
    expect(contradiction.body).toMatchObject({
      error: 'Conflict',
      details: [{ field: 'outcome', rule: 'must equal the outcome already recorded (1)' }],
    });
    // The first answer stands.
    const [stored] = await server.app.predictionLog!.store.find([id]);
    expect(stored).toBeDefined();
    const labelled = await server.app.predictionLog!.store.labelled();
    expect(labelled.find((r) => r.id === id)).toMatchObject({ outcome: 1, observedAt: '2026-12-01T09:00:00.000Z' });
  });

  it('an unknown id is 404 naming predictionId', async () => {
    const res = await postJson(`${server.url}/feedback`, { predictionId: uuidv7(), outcome: 0 }, auth);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      error: 'Not Found',
      details: [{ field: 'predictionId', rule: 'must be the predictionId of a logged prediction' }],
    });
  });

  it('bad input is 400 naming every field and rule, in the error shape of /predict', async () => {
    const cases: [unknown, { field: string; rule: RegExp }[]][] = [
      [{ predictionId: uuidv7(), outcome: 2 }, [{ field: 'outcome', rule: /allowed values/ }]],
      [{ predictionId: uuidv7(), outcome: '1' }, [{ field: 'outcome', rule: /allowed values/ }]],
      [{ predictionId: 'not-an-id', outcome: 1 }, [{ field: 'predictionId', rule: /UUID/ }]],
      [{ outcome: 1 }, [{ field: 'predictionId', rule: /required/ }]],
      [{ predictionId: uuidv7() }, [{ field: 'outcome', rule: /required/ }]],
      [{ predictionId: uuidv7(), outcome: 1, observedAt: 'yesterday' }, [{ field: 'observedAt', rule: /date-time/ }]],
      [{ predictionId: uuidv7(), outcome: 1, observedAt: '2026-12-01T10:00:00' }, [{ field: 'observedAt', rule: /time zone/ }]],
      [{ predictionId: uuidv7(), outcome: 1, label: 1 }, [{ field: 'label', rule: /unknown field/ }]],
      [
        {
          outcomes: [
            { predictionId: uuidv7(), outcome: 1 },
            { predictionId: 'x', outcome: 5 },
          ],
        },
        [
          { field: 'outcomes[1].predictionId', rule: /UUID/ },
          { field: 'outcomes[1].outcome', rule: /allowed values/ },
        ],
      ],
      [{ outcomes: [] }, [{ field: 'outcomes', rule: /at least 1/ }]],
      [[1, 2], [{ field: '(body)', rule: /must be object/ }]],
    ];
    for (const [body, expected] of cases) {
      const res = await postJson(`${server.url}/feedback`, body, auth);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe('Bad Request');
      const details = res.body.details as { field: string; rule: string }[];
      expect(details.map((d) => d.field)).toEqual(expected.map((e) => e.field));
      details.forEach((d, i) => expect(d.rule).toMatch(expected[i]!.rule));
    }
  });

  it('a batch answers per item: recorded, unchanged, conflict, not_found, with counts; the recorded ones are stored', async () => {
    const [a, b, c] = [await predict(server), await predict(server), await predict(server)];
    await postJson(`${server.url}/feedback`, { predictionId: b, outcome: 0 }, auth);
    await postJson(`${server.url}/feedback`, { predictionId: c, outcome: 1 }, auth);
    const unknown = uuidv7();
    const res = await postJson(
      `${server.url}/feedback`,
      {
        outcomes: [
          { predictionId: a, outcome: 1 },
          { predictionId: b, outcome: 0 },
          { predictionId: c, outcome: 0 },
          { predictionId: unknown, outcome: 1 },
        ],
      },
      auth,
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      results: [
        { predictionId: a, status: 'recorded', storedOutcome: 1 },
        { predictionId: b, status: 'unchanged', storedOutcome: 0 },
        { predictionId: c, status: 'conflict', storedOutcome: 1 },
        { predictionId: unknown, status: 'not_found' },
      ],
      counts: { recorded: 1, unchanged: 1, conflict: 1, not_found: 1 },
    });
    const samples = await metrics(server);
    expect(sampleValue(samples, 'hd_feedback_total', { status: 'conflict' })).toBeGreaterThanOrEqual(1);
  });

  it('responses list the imputed features and flag a mostly-missing examination', async () => {
    const partial = { age: 61, sex: 1, cp: 4, trestbps: 140, chol: null, fbs: 0, restecg: 0, thalach: 120, exang: 1 };
    const res = await postJson(`${server.url}/predict`, partial, auth);
    expect(res.status).toBe(200);
    expect(res.body.imputed).toEqual(['chol', 'oldpeak', 'slope', 'ca', 'thal']);
    expect(res.body.mostlyMissing).toBe(true);
    const full = await postJson(`${server.url}/predict`, PATIENT, auth);
    expect(full.body).toMatchObject({ imputed: [], mostlyMissing: false });
  });

  it('/performance says how many labelled predictions there are instead of metrics below the minimum count', async () => {
    const res = await fetch(`${server.url}/performance`);
    expect(res.status).toBe(200);
    const report = (await res.json()) as { models: { serving: boolean; byCount: Record<string, unknown>; trainingAuc: unknown }[] };
    const serving = report.models.find((m) => m.serving)!;
    expect(serving.byCount).toMatchObject({ count: 4, sufficient: false, rocAuc: null, brier: null });
    expect(serving.byCount.note).toMatch(/4 labelled prediction\(s\).*at least 5/);
    expect(serving.trainingAuc).toMatchObject({ mean: expect.any(Number), lowerBound: expect.any(Number) });
    // No live metric on /metrics either, only the count.
    const samples = await metrics(server);
    expect(samples.some((s) => s.name === 'hd_live_roc_auc')).toBe(false);
    expect(sampleValue(samples, 'hd_live_labelled_predictions', { window: 'count' })).toBe(4);
  });
});

describe('two replicas sharing one store', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hd-replicas-'));
  // Each replica writes its queue at most every 400 ms; the other one's feedback comes at once.
  const env = { API_KEYS: KEY, PREDICTION_LOG_PATH: path.join(dir, 'shared.sqlite'), PREDICTION_LOG_FLUSH_MS: '400' };
  let a: RunningApp;
  let b: RunningApp;
  beforeAll(async () => {
    a = await startApp(env);
    b = await startApp(env);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("feedback to one replica for a prediction still queued in the other's log is recorded, not 404", async () => {
    const ids = [await predict(a), await predict(a, { ...PATIENT, chol: null })];
    expect(await b.app.predictionLog!.store.find(ids)).toHaveLength(0);
    const res = await postJson(`${b.url}/feedback`, { outcomes: ids.map((predictionId) => ({ predictionId, outcome: 1 })) }, auth);
    expect(res.status).toBe(200);
    expect((res.body.results as { status: string }[]).map((r) => r.status)).toEqual(['recorded', 'recorded']);
  });

  it('an unknown id made long ago is answered 404 at once: only recent ids wait for the other replicas', async () => {
    const old = uuidv7({ msecs: Date.now() - 60_000 });
    const started = performance.now();
    const res = await postJson(`${b.url}/feedback`, { predictionId: old, outcome: 0 }, auth);
    expect(res.status).toBe(404);
    expect(performance.now() - started).toBeLessThan(OTHER_REPLICA_WRITE_GRACE_MS);
  });
});

describe('prediction ids carry their time', () => {
  it('predictionIdTime reads the millisecond of a UUIDv7 and refuses other ids', () => {
    const ms = Date.UTC(2026, 11, 6, 16, 30, 0, 123);
    expect(predictionIdTime(uuidv7({ msecs: ms }))).toBe(ms);
    const before = Date.now();
    const made = predictionIdTime(newPredictionId())!;
    expect(made).toBeGreaterThanOrEqual(before);
    expect(made).toBeLessThanOrEqual(Date.now());
    expect(predictionIdTime('4b3a1f3e-2c1d-4e5f-8a9b-0c1d2e3f4a5b')).toBeNull();
    expect(predictionIdTime('not-an-id')).toBeNull();
  });
});

describe('PREDICTION_LOG=off', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startApp({ PREDICTION_LOG: 'off' });
  });
  afterAll(() => server.close());

  it('predicts without ids; /feedback and /performance answer 503 saying the log is off', async () => {
    const res = await postJson(`${server.url}/predict`, PATIENT);
    expect(res.status).toBe(200);
    expect(res.body.predictionId).toBeUndefined();
    expect(res.headers.get('x-prediction-id')).toBeNull();
    const feedback = await postJson(`${server.url}/feedback`, { predictionId: uuidv7(), outcome: 1 });
    expect(feedback.status).toBe(503);
    expect(feedback.body.message).toContain('PREDICTION_LOG=off');
    expect((await fetch(`${server.url}/performance`)).status).toBe(503);
  });
});

describe('a store that cannot be reached never fails a prediction', () => {
  it('no database at DATABASE_URL: predictions are answered, the failure is counted', async () => {
    const port = await freePort();
    const server = await startApp({ DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none` });
    try {
      const res = await postJson(`${server.url}/predict`, PATIENT);
      expect(res.status).toBe(200);
      expect(sampleValue(await metrics(server), 'hd_prediction_store_failures_total', { operation: 'write' })).toBe(1);
      expect((await postJson(`${server.url}/feedback`, { predictionId: uuidv7(), outcome: 1 })).status).toBe(503);
    } finally {
      await server.close();
    }
  });

  it.runIf(havePostgres())(
    'the database goes away while serving: predictions are answered, writes fail and are counted, rows stay queued',
    async () => {
      const pg = await startPostgres();
      const server = await startApp({ DATABASE_URL: pg.createDatabase('failing'), PREDICTION_LOG_FLUSH_MS: '20' });
      try {
        await pg.stop();
        for (let i = 0; i < 5; i++) expect((await postJson(`${server.url}/predict`, PATIENT)).status).toBe(200);
        await new Promise((r) => setTimeout(r, 500));
        const samples = await metrics(server);
        expect(sampleValue(samples, 'hd_prediction_store_failures_total', { operation: 'write' })).toBeGreaterThanOrEqual(1);
        expect(sampleValue(samples, 'hd_prediction_log_queued_rows')).toBe(5);
      } finally {
        await server.close();
      }
    },
  );
});
