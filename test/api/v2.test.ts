/**
 * Open Inference Protocol (KServe V2) REST, tested from the protocol document
 * (kserve/open-inference-protocol specification/protocol/inference_rest.md): health, server and model metadata,
 * model ready, inference request/response objects (id echoed, requested outputs, flat or nested row-major data),
 * error object { "error": $string } with an HTTP error status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';
import { readCard } from './support/model.js';

const OTHER = {
  age: 41,
  sex: 0,
  cp: 2,
  trestbps: 130,
  chol: 204,
  fbs: 0,
  restecg: 2,
  thalach: 172,
  exang: 0,
  oldpeak: 1.4,
  slope: 1,
  ca: 0,
  thal: 3,
};
const row = (p: Record<string, number | null>) => FEATURE_NAMES.map((n) => p[n] ?? null);

interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: number[];
}

describe('KServe V2 / Open Inference Protocol', () => {
  let server: RunningApp;
  const card = readCard();
  const infer = (body: unknown, path = '/v2/models/heart-disease/infer') => postJson(`${server.url}${path}`, body);
  const get = async (path: string) => {
    const res = await fetch(`${server.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('server live and ready', async () => {
    expect(await get('/v2/health/live')).toEqual({ status: 200, body: { live: true } });
    expect(await get('/v2/health/ready')).toEqual({ status: 200, body: { ready: true } });
  });

  it('server metadata: name, version, extensions', async () => {
    const { status, body } = await get('/v2');
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'heart-disease-api', extensions: [] });
    expect(typeof body.version).toBe('string');
  });

  it('model metadata: name, versions, platform, input and output tensors', async () => {
    const { status, body } = await get('/v2/models/heart-disease');
    expect(status).toBe(200);
    expect(body).toEqual({
      name: 'heart-disease',
      versions: [card.modelVersion],
      platform: 'onnxruntime',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 13] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      ],
    });
    expect((await get(`/v2/models/heart-disease/versions/${card.modelVersion}`)).status).toBe(200);
  });

  it('model ready, with and without version; unknown model or version → error object', async () => {
    expect(await get('/v2/models/heart-disease/ready')).toEqual({ status: 200, body: { name: 'heart-disease', ready: true } });
    expect((await get(`/v2/models/heart-disease/versions/${card.modelVersion}/ready`)).status).toBe(200);
    const unknown = await get('/v2/models/resnet/ready');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toContain('resnet');
    const badVersion = await get('/v2/models/heart-disease/versions/v999');
    expect(badVersion.status).toBe(404);
    expect(badVersion.body.error).toContain('v999');
  });

  it('inference: flat row-major FP32 [2, 13] → label INT64 [2] and probabilities FP32 [2, 2], id echoed; same as /predict', async () => {
    const res = await infer({
      id: '42',
      inputs: [{ name: 'features', shape: [2, 13], datatype: 'FP32', data: [...row(PATIENT), ...row(OTHER)] }],
    });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe('42');
    expect(res.body.model_name).toBe('heart-disease');
    expect(res.body.model_version).toBe(card.modelVersion);
    const outputs = res.body.outputs as unknown as Tensor[];
    const label = outputs.find((o) => o.name === 'label')!;
    const probs = outputs.find((o) => o.name === 'probabilities')!;
    expect(label).toMatchObject({ datatype: 'INT64', shape: [2] });
    expect(probs).toMatchObject({ datatype: 'FP32', shape: [2, 2] });
    expect(probs.data).toHaveLength(4);
    for (const [i, patient] of [PATIENT, OTHER].entries()) {
      const direct = await postJson(`${server.url}/predict`, patient);
      expect(probs.data[2 * i + 1]).toBeCloseTo(direct.body.probability, 6);
      expect(probs.data[2 * i]! + probs.data[2 * i + 1]!).toBeCloseTo(1, 5);
      expect(label.data[i]).toBe(direct.body.label);
    }
  });

  it('inference: nested data equals flat data; no id in the request → none in the response', async () => {
    const flat = await infer({ inputs: [{ name: 'features', shape: [2, 13], datatype: 'FP32', data: [...row(PATIENT), ...row(OTHER)] }] });
    const nested = await infer({ inputs: [{ name: 'features', shape: [2, 13], datatype: 'FP32', data: [row(PATIENT), row(OTHER)] }] });
    expect(nested.status).toBe(200);
    expect(nested.body.outputs).toEqual(flat.body.outputs);
    expect('id' in nested.body).toBe(false);
  });

  it('inference: null marks a missing optional feature (imputed), like omitting it in /predict', async () => {
    const withNulls = { ...PATIENT, chol: null, ca: null, thal: null };
    const res = await infer({ inputs: [{ name: 'features', shape: [1, 13], datatype: 'FP32', data: row(withNulls) }] });
    const { chol: _c, ca: _ca, thal: _t, ...omitted } = PATIENT;
    const direct = await postJson(`${server.url}/predict`, omitted);
    expect(res.status).toBe(200);
    const probs = (res.body.outputs as unknown as Tensor[]).find((o) => o.name === 'probabilities')!;
    expect(probs.data[1]).toBeCloseTo(direct.body.probability, 6);
  });

  it('inference: requested outputs only, in the requested order; parameters accepted', async () => {
    const res = await infer({
      parameters: { content_type: 'np' },
      inputs: [{ name: 'features', shape: [1, 13], datatype: 'FP32', data: row(PATIENT), parameters: {} }],
      outputs: [{ name: 'probabilities' }],
    });
    expect(res.status).toBe(200);
    expect((res.body.outputs as unknown as Tensor[]).map((o) => o.name)).toEqual(['probabilities']);
  });

  it('inference with the versioned path; errors are { error } objects with status 400 (404 for unknown models)', async () => {
    const ok = await infer(
      { inputs: [{ name: 'features', shape: [1, 13], datatype: 'FP32', data: row(PATIENT) }] },
      `/v2/models/heart-disease/versions/${card.modelVersion}/infer`,
    );
    expect(ok.status).toBe(200);
    const bad = await infer({ inputs: [{ name: 'features', shape: [1, 13], datatype: 'FP32', data: row({ ...PATIENT, trestbps: 20 }) }] });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: expect.stringContaining('trestbps') });
    const unknown = await infer({ inputs: [] }, '/v2/models/nope/infer');
    expect([400, 404]).toContain(unknown.status);
    expect(Object.keys(unknown.body)).toEqual(['error']);
  });
});
