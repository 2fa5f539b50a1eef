/**
 * The outcome loop end to end, on the real server process: Hungarian rows (another hospital's records, many
 * examinations missing) are predicted through /predict and the Open Inference Protocol, their true outcomes (the
 * file's `num`) fed back through POST /feedback, and GET /performance must agree with an independent computation over
 * the same rows: probabilities from the responses, outcomes from the file, ROC-AUC by counting pairs (Mann–Whitney,
 * not the shared metrics module) and Brier by its definition. Once with SQLite, once with PostgreSQL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES, targetFromNum, valueProblem } from '../../src/features/feature-schema.js';
import { openPredictionStore } from '../../src/outcomes/open-store.js';
import { parseUciText } from '../../src/train/data/uci-file.js';
import { postJson } from '../api/support/app.js';
import { testModelDir } from '../api/support/model.js';
import { parseSamples, sampleValue } from '../api/support/prometheus-text.js';
import { startServerProcess, type ServerProcess } from '../api/support/server-process.js';
import { hungarianFile } from '../support/paths.js';
import { havePostgres, startPostgres, type PostgresServer } from '../support/postgres.js';

const KEY = 'outcome-loop-test-key-0123456789';
const auth = { 'x-api-key': KEY };

/** Hungarian rows the API accepts (values within the schema; '?' sent as null) and their outcomes. */
function hungarianRows() {
  const parsed = parseUciText(hungarianFile, readFileSync(hungarianFile, 'utf8'), FEATURES);
  const rows: { patient: Record<string, number | null>; values: (number | null)[]; outcome: 0 | 1 }[] = [];
  parsed.rows.forEach((row, i) => {
    const values = row.map((v) => (Number.isNaN(v) ? null : v));
    if (FEATURES.some((f, j) => valueProblem(f, values[j]) !== null)) return;
    rows.push({
      patient: Object.fromEntries(FEATURES.map((f, j) => [f.name, values[j]!])),
      values,
      outcome: targetFromNum(parsed.num[i]!),
    });
  });
  return rows;
}

/** ROC-AUC as the share of (positive, negative) pairs ranked right, ties counting half: O(n²), by definition. */
function pairwiseAuc(y: readonly number[], p: readonly number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < y.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      wins += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

const brier = (y: readonly number[], p: readonly number[]) => y.reduce((s, v, i) => s + (p[i]! - v) ** 2, 0) / y.length;

function outcomeLoop(backend: () => { env: Record<string, string>; store: { databaseUrl?: string; sqlitePath: string } }) {
  const rows = hungarianRows();
  let server: ServerProcess;
  const ids: string[] = [];
  const probabilities: number[] = [];

  beforeAll(async () => {
    server = await startServerProcess({
      MODEL_DIR: testModelDir(),
      API_KEYS: KEY,
      PERFORMANCE_WINDOW_COUNT: '1000',
      PERFORMANCE_MIN_COUNT: '50',
      ...backend().env,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('predicts every row and gives each an id (body and header), with the imputed features listed', async () => {
    // The first 40 rows through the Open Inference Protocol, one request of 40 rows; the rest through /predict in batches.
    const v2Rows = rows.slice(0, 40);
    const v2 = await postJson(
      `${server.url}/v2/models/heart-disease/infer`,
      { inputs: [{ name: 'features', datatype: 'FP32', shape: [v2Rows.length, 13], data: v2Rows.map((r) => r.values) }] },
      auth,
    );
    expect(v2.status).toBe(200);
    const v2Body = v2.body as unknown as { parameters: Record<string, string>; outputs: { name: string; data: number[] }[] };
    const v2Ids = v2Body.parameters.prediction_ids!.split(',');
    expect(v2Ids).toHaveLength(v2Rows.length);
    expect(v2.headers.get('x-prediction-id')).toBe(v2Ids[0]);
    const matrix = v2Body.outputs.find((o) => o.name === 'probabilities')!.data;
    ids.push(...v2Ids);
    probabilities.push(...v2Rows.map((_, i) => matrix[2 * i + 1]!));

    for (let from = 40; from < rows.length; from += 100) {
      const chunk = rows.slice(from, from + 100);
      const res = await postJson(`${server.url}/predict`, { instances: chunk.map((r) => r.patient) }, auth);
      expect(res.status).toBe(200);
      const predictions = (res.body as unknown as { predictions: { predictionId: string; probability: number; imputed: string[] }[] })
        .predictions;
      expect(res.headers.get('x-prediction-id')).toBe(predictions[0]!.predictionId);
      predictions.forEach((p, k) => {
        const missing = FEATURES.filter((_, j) => chunk[k]!.values[j] === null).map((f) => f.name);
        expect(p.imputed).toEqual(missing);
      });
      ids.push(...predictions.map((p) => p.predictionId));
      probabilities.push(...predictions.map((p) => p.probability));
    }
    expect(new Set(ids).size).toBe(rows.length);
  });

  it('takes the outcomes back and reports the AUC and Brier an independent computation gives, to 1e-9', async () => {
    const observedAt = new Date().toISOString();
    for (let from = 0; from < ids.length; from += 100) {
      const outcomes = ids
        .slice(from, from + 100)
        .map((predictionId, k) => ({ predictionId, outcome: rows[from + k]!.outcome, observedAt }));
      const res = await postJson(`${server.url}/feedback`, { outcomes }, auth);
      expect(res.status).toBe(200);
      expect((res.body as unknown as { counts: Record<string, number> }).counts).toEqual({
        recorded: outcomes.length,
        unchanged: 0,
        conflict: 0,
        not_found: 0,
      });
    }
    const y = rows.map((r) => r.outcome);
    const expectedAuc = pairwiseAuc(y, probabilities);
    const expectedBrier = brier(y, probabilities);

    const res = await fetch(`${server.url}/performance`);
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      models: { serving: boolean; byCount: Record<string, number | null>; byTime: Record<string, number | null> }[];
    };
    const serving = report.models.find((m) => m.serving)!;
    for (const window of [serving.byCount, serving.byTime]) {
      expect(window.count).toBe(rows.length);
      expect(window.positives).toBe(y.filter((v) => v === 1).length);
      expect(Math.abs(window.rocAuc! - expectedAuc)).toBeLessThan(1e-9);
      expect(Math.abs(window.brier! - expectedBrier)).toBeLessThan(1e-9);
      expect(Math.abs(window.meanPredicted! - probabilities.reduce((a, b) => a + b, 0) / rows.length)).toBeLessThan(1e-9);
    }
    const through = backend().env.DATABASE_URL ? 'PostgreSQL' : 'SQLite';
    console.log(
      `outcome loop (${through}): ${rows.length} Hungarian rows fed back; /performance ROC-AUC ${serving.byCount.rocAuc} ` +
        `(independent ${expectedAuc}), Brier ${serving.byCount.brier} (independent ${expectedBrier})`,
    );

    const metrics = parseSamples(await (await fetch(`${server.url}/metrics`)).text());
    const labels = { window: 'count' };
    expect(Math.abs(sampleValue(metrics, 'hd_live_roc_auc', labels) - expectedAuc)).toBeLessThan(1e-9);
    expect(Math.abs(sampleValue(metrics, 'hd_live_brier', labels) - expectedBrier)).toBeLessThan(1e-9);
    expect(sampleValue(metrics, 'hd_feedback_total', { status: 'recorded' })).toBe(rows.length);
  });

  it('keeps what it received and what it scored in the store', async () => {
    const store = await openPredictionStore(backend().store);
    try {
      const found = await store.find(ids);
      expect(found).toHaveLength(rows.length);
      const byId = new Map(found.map((r) => [r.id, r]));
      ids.forEach((id, i) => {
        const record = byId.get(id)!;
        expect(record.features).toEqual(rows[i]!.values);
        expect(record.probability).toBe(probabilities[i]);
        expect(record.route).toBe(i < 40 ? 'v2' : 'predict');
        if (i >= 40) expect(record.received).toEqual(rows[i]!.patient);
      });
      expect(await store.countLabelled()).toBe(rows.length);
    } finally {
      await store.close();
    }
  });
}

describe('the outcome loop through SQLite', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'outcome-loop-'));
  const sqlitePath = path.join(dir, 'log.sqlite');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  outcomeLoop(() => ({ env: { PREDICTION_LOG_PATH: sqlitePath }, store: { sqlitePath } }));
});

describe.runIf(havePostgres())('the outcome loop through PostgreSQL', () => {
  let pg: PostgresServer;
  let databaseUrl = '';
  beforeAll(async () => {
    pg = await startPostgres();
    databaseUrl = pg.createDatabase('outcomes');
  });
  afterAll(async () => {
    await pg?.stop();
  });
  outcomeLoop(() => ({ env: { DATABASE_URL: databaseUrl }, store: { databaseUrl, sqlitePath: 'unused' } }));
});
