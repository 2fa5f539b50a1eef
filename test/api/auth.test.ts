import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyMatches, presentedKey } from '../../src/api/plugins/auth.js';
import { createHash } from 'node:crypto';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';

const KEY_A = 'test-key-aaaaaaaaaaaaaaaa';
const KEY_B = 'test-key-bbbbbbbbbbbbbbbb';
const tensor = { inputs: [{ name: 'features', shape: [1, 13], datatype: 'FP32', data: Object.values(PATIENT) }] };

describe('API keys (API_KEYS set)', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startApp({ API_KEYS: `${KEY_A}, ${KEY_B}` });
  });
  afterAll(() => server.close());

  it('/predict without a key: 401 with WWW-Authenticate and a message saying how to send one', async () => {
    const res = await postJson(`${server.url}/predict`, PATIENT);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body.message).toContain('Authorization: Bearer');
  });

  it('/predict with a wrong key, a key prefix or a key with extra characters: 401', async () => {
    for (const key of ['wrong-key-cccccccccccccccc', KEY_A.slice(0, -1), `${KEY_A}x`]) {
      expect((await postJson(`${server.url}/predict`, PATIENT, { authorization: `Bearer ${key}` })).status).toBe(401);
      expect((await postJson(`${server.url}/predict`, PATIENT, { 'x-api-key': key })).status).toBe(401);
    }
  });

  it('/predict accepts either configured key as Bearer token or x-api-key', async () => {
    expect((await postJson(`${server.url}/predict`, PATIENT, { authorization: `Bearer ${KEY_A}` })).status).toBe(200);
    expect((await postJson(`${server.url}/predict`, PATIENT, { authorization: `bearer ${KEY_B}` })).status).toBe(200);
    expect((await postJson(`${server.url}/predict`, PATIENT, { 'x-api-key': KEY_B })).status).toBe(200);
  });

  it('checks the key before reading the body: an unauthenticated malformed body still gets 401', async () => {
    expect((await postJson(`${server.url}/predict`, '{not json')).status).toBe(401);
  });

  it('V2 infer needs a key too and answers in the protocol error shape', async () => {
    const denied = await postJson(`${server.url}/v2/models/heart-disease/infer`, tensor);
    expect(denied.status).toBe(401);
    expect(Object.keys(denied.body)).toEqual(['error']);
    const allowed = await postJson(`${server.url}/v2/models/heart-disease/infer`, tensor, { 'x-api-key': KEY_A });
    expect(allowed.status).toBe(200);
  });

  it('health, readiness, metrics, model metadata, V2 metadata and docs stay open', async () => {
    for (const path of [
      '/health',
      '/ready',
      '/metrics',
      '/model',
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/heart-disease',
      '/docs/json',
    ]) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    }
  });

  it('the OpenAPI document declares the key requirement on /predict, /feedback and V2 infer, and only there', async () => {
    const doc = (await (await fetch(`${server.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    const secured = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.security !== undefined)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(secured.sort()).toEqual([
      'POST /feedback',
      'POST /predict',
      'POST /v2/models/{name}/infer',
      'POST /v2/models/{name}/versions/{version}/infer',
    ]);
    expect(doc.paths['/predict']!.post!.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
  });

  it('never logs or echoes the key', async () => {
    const res = await postJson(`${server.url}/predict`, PATIENT, { authorization: 'Bearer wrong-key-cccccccccccccccc' });
    expect(JSON.stringify(res.body)).not.toContain('wrong-key');
  });
});

describe('without API_KEYS the prediction routes are open', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startApp({ API_KEYS: '' });
  });
  afterAll(() => server.close());

  it('/predict answers 200 without any key', async () => {
    expect((await postJson(`${server.url}/predict`, PATIENT)).status).toBe(200);
  });
});

describe('key extraction and comparison', () => {
  const digests = [KEY_A, KEY_B].map((k) => createHash('sha256').update(k).digest());
  it('reads Bearer tokens and x-api-key, ignores other schemes', () => {
    expect(presentedKey({ authorization: `Bearer ${KEY_A}` })).toBe(KEY_A);
    expect(presentedKey({ 'x-api-key': KEY_B })).toBe(KEY_B);
    expect(presentedKey({ authorization: `Basic ${KEY_A}` })).toBeNull();
    expect(presentedKey({})).toBeNull();
  });
  it('matches exactly the configured keys', () => {
    expect(keyMatches(KEY_A, digests)).toBe(true);
    expect(keyMatches(KEY_B, digests)).toBe(true);
    expect(keyMatches(KEY_A.toUpperCase(), digests)).toBe(false);
    expect(keyMatches('', digests)).toBe(false);
  });
});
