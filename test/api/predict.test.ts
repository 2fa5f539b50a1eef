import { readFileSync, rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { FEATURES, FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { parseUciText } from '../../src/train/data/uci-file.js';
import { clevelandFile } from '../support/paths.js';
import { PATIENT, testConfig } from './support/app.js';
import type { ApiBody, Contribution, Prediction } from './support/types.js';
import { randomForestModelDir, readCard } from './support/model.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

/** Cleveland rows in API form (missing values omitted). */
function clevelandPatients(): Record<string, number>[] {
  const parsed = parseUciText(clevelandFile, readFileSync(clevelandFile, 'utf8'), FEATURES);
  return parsed.rows.map((row) =>
    Object.fromEntries(FEATURE_NAMES.flatMap((name, j) => (Number.isFinite(row[j]!) ? [[name, row[j]!]] : []))),
  );
}

async function predict(app: FastifyInstance, body: unknown, query = '') {
  const res = await app.inject({ method: 'POST', url: `/predict${query}`, payload: body as object });
  return { status: res.statusCode, body: res.json() as ApiBody, headers: res.headers };
}

describe('POST /predict on the trained logistic regression', () => {
  let app: FastifyInstance;
  const card = readCard();
  beforeAll(async () => {
    app = await buildApp(testConfig());
  });
  afterAll(() => app.close());

  it('serves the logistic regression selected by training', () => {
    expect(card.selectedModel).toBe('logistic_regression');
    expect(card.explainer.kind).toBe('linear');
  });

  it('predicts one patient: label, probability, risk band consistent with the probability, model version', async () => {
    const res = await predict(app, PATIENT);
    expect(res.status).toBe(200);
    const { label, probability, riskBand, modelVersion } = res.body;
    expect(modelVersion).toBe(card.modelVersion);
    expect(probability).toBeGreaterThanOrEqual(0);
    expect(probability).toBeLessThanOrEqual(1);
    expect(label).toBe(probability >= 0.5 ? 1 : 0);
    expect(riskBand).toBe(probability < 0.2 ? 'low' : probability < 0.5 ? 'moderate' : 'high'); // the trained model's threshold is 0.5
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('predicts a batch of all 303 Cleveland rows in order, the same as one by one', async () => {
    const patients = clevelandPatients();
    const batch = await predict(app, { instances: patients });
    expect(batch.status).toBe(200);
    expect(batch.body.predictions).toHaveLength(patients.length);
    for (const i of [0, 1, 87, 166, 302]) {
      const single = await predict(app, patients[i]);
      expect(batch.body.predictions[i]!.probability).toBeCloseTo(single.body.probability, 6);
      expect(batch.body.predictions[i]!.label).toBe(single.body.label);
    }
    // The model separates the classes: both labels and all three bands occur on the training hospital's data.
    const labels = new Set(batch.body.predictions.map((p: Prediction) => p.label));
    const bands = new Set(batch.body.predictions.map((p: Prediction) => p.riskBand));
    expect([...labels].sort()).toEqual([0, 1]);
    expect([...bands].sort()).toEqual(['high', 'low', 'moderate']);
  });

  it('imputes omitted optional fields exactly as sending the training imputation values', async () => {
    const required = Object.fromEntries(FEATURES.filter((f) => f.required).map((f) => [f.name, PATIENT[f.name as keyof typeof PATIENT]]));
    const imputed = { ...required };
    const explainer = card.explainer as { imputeValues: Record<string, number> };
    for (const f of FEATURES) if (!f.required) imputed[f.name] = explainer.imputeValues[f.name]!;
    const omitted = await predict(app, required);
    const withNulls = await predict(app, { ...required, chol: null, thal: null });
    const explicit = await predict(app, imputed);
    expect(omitted.status).toBe(200);
    expect(omitted.body.probability).toBeCloseTo(explicit.body.probability, 6);
    expect(withNulls.status).toBe(200);
    // chol/thal null = imputed; the rest omitted = imputed: same as everything imputed.
    expect(withNulls.body.probability).toBeCloseTo(explicit.body.probability, 6);
  });

  it('?explain=true: exact linear contributions that sum to the logit of the predicted probability', async () => {
    const patients = clevelandPatients().slice(0, 40);
    const res = await predict(app, { instances: patients }, '?explain=true');
    expect(res.status).toBe(200);
    for (const [i, prediction] of res.body.predictions.entries()) {
      expect(prediction.explanation).toBe('linear');
      expect(prediction.contributions.map((c: Contribution) => c.feature).sort()).toEqual([...FEATURE_NAMES].sort());
      const sum = prediction.contributions.reduce((s: number, c: Contribution) => s + c.contribution, 0);
      expect(prediction.baselineLogit + sum).toBeCloseTo(prediction.logit, 9);
      // The ONNX graph computes in float32; the explanation in float64 from model.json: agree to ~1e-5.
      expect(Math.abs(sigmoid(prediction.logit) - prediction.probability)).toBeLessThan(1e-5);
      const magnitudes = prediction.contributions.map((c: Contribution) => Math.abs(c.contribution));
      expect(magnitudes).toEqual([...magnitudes].sort((a: number, b: number) => b - a));
      const age = prediction.contributions.find((c: Contribution) => c.feature === 'age')!;
      expect(age.value).toBe(patients[i]!.age);
    }
  });

  it('explanations report missing features as value null', async () => {
    const { thal: _thal, ca: _ca, ...rest } = PATIENT;
    const res = await predict(app, rest, '?explain=true');
    const thal = res.body.contributions.find((c: Contribution) => c.feature === 'thal')!;
    expect(thal.value).toBeNull();
  });

  it('without ?explain there are no contributions', async () => {
    const res = await predict(app, PATIENT, '?explain=false');
    expect(res.body.contributions).toBeUndefined();
  });
});

describe('POST /predict?explain=true on the random forest (occlusion)', () => {
  let app: FastifyInstance;
  let dir: string;
  beforeAll(async () => {
    dir = randomForestModelDir();
    app = await buildApp(testConfig({ MODEL_DIR: dir }));
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('contribution = logit(p) − logit(p with that feature imputed), checked against separate predictions', async () => {
    const res = await predict(app, PATIENT, '?explain=true');
    expect(res.status).toBe(200);
    expect(res.body.explanation).toBe('occlusion');
    expect(res.body.modelVersion).toMatch(/-rf$/);
    expect(res.body.logit).toBeCloseTo(logit(res.body.probability), 5);
    for (const feature of FEATURES.filter((f) => !f.required)) {
      const { [feature.name as keyof typeof PATIENT]: _dropped, ...without } = PATIENT;
      const occluded = await predict(app, without);
      const expected = logit(res.body.probability) - logit(occluded.body.probability);
      const got = res.body.contributions.find((c: Contribution) => c.feature === feature.name)!.contribution;
      expect(got).toBeCloseTo(expected, 4);
    }
    // A forest uses several features for this patient: not every contribution is zero.
    expect(res.body.contributions.filter((c: Contribution) => Math.abs(c.contribution) > 1e-6).length).toBeGreaterThan(2);
  });
});
