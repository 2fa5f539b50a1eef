/** OpenAPI docs, security headers, request ids, logging without patient data, optional rate limiting. */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { FEATURES } from '../../src/features/feature-schema.js';
import { PATIENT, postJson, startApp, testConfig, type RunningApp } from './support/app.js';

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; security?: unknown[]; tags?: string[] }>>;
  components: {
    schemas: Record<
      string,
      {
        properties: Record<string, { enum?: unknown[]; minimum?: number; maximum?: number }>;
        required: string[];
        additionalProperties: boolean;
      }
    >;
  };
}

describe('docs, headers and request ids', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('/docs/json is an OpenAPI 3.1 document generated from the route schemas, including every route', async () => {
    const doc = (await (await fetch(`${server.url}/docs/json`)).json()) as OpenApi;
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/predict',
      '/health',
      '/ready',
      '/model',
      '/metrics',
      '/drift/status',
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/{name}',
      '/v2/models/{name}/ready',
      '/v2/models/{name}/infer',
    ]) {
      expect(Object.keys(doc.paths), path).toContain(path);
    }
    expect(JSON.stringify(doc.paths['/predict']!.post!.requestBody)).toContain(
      '"oneOf":[{"$ref":"#/components/schemas/Patient"},{"$ref":"#/components/schemas/PatientBatch"}]',
    );
    // Open by default (no API_KEYS): no security requirement is declared (auth.test.ts checks the keyed document).
    expect(doc.paths['/predict']!.post!.security).toBeUndefined();
    expect(Object.keys(doc.paths)).not.toContain('/');
  });

  it('the Patient schema in the docs is the feature schema: names, required, ranges and codes', async () => {
    const doc = (await (await fetch(`${server.url}/docs/json`)).json()) as OpenApi;
    const patient = doc.components.schemas.Patient!;
    expect(Object.keys(patient.properties)).toEqual(FEATURES.map((f) => f.name));
    expect(patient.required).toEqual(FEATURES.filter((f) => f.required).map((f) => f.name));
    expect(patient.additionalProperties).toBe(false);
    for (const f of FEATURES) {
      const property = patient.properties[f.name]!;
      if (f.type === 'numeric') expect([property.minimum, property.maximum]).toEqual([f.min, f.max]);
      else expect(property.enum?.filter((v) => v !== null)).toEqual(f.codes.map((c) => c.code));
    }
  });

  it('/docs serves the Swagger UI with a CSP that allows it and does not force HTTPS', async () => {
    const res = await fetch(`${server.url}/docs/static/index.html`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('security headers on API answers: strict CSP, nosniff, no x-powered-by', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
    // The hot JSON routes carry a fixed, stricter set (no per-request helmet rebuild), on success and on errors.
    for (const answer of [await postJson(`${server.url}/predict`, PATIENT), await postJson(`${server.url}/predict`, { age: 1 })]) {
      expect(answer.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
    }
    // An unknown URL is answered like the JSON API; the page keeps helmet's policy.
    const unknown = await fetch(`${server.url}/no-such-route`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    const page = await fetch(`${server.url}/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('x-request-id: generated on every answer (even errors), a sane incoming one is honoured, a hostile one replaced', async () => {
    const generated = await fetch(`${server.url}/no-such-route`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const honoured = await postJson(`${server.url}/predict`, PATIENT, { 'x-request-id': 'trace-abc.123' });
    expect(honoured.headers.get('x-request-id')).toBe('trace-abc.123');
    const hostile = await postJson(`${server.url}/predict`, PATIENT, { 'x-request-id': 'a b {"level":60}' });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('no rate limiting unless RATE_LIMIT_MAX is set', async () => {
    const res = await postJson(`${server.url}/predict`, PATIENT);
    expect(res.headers.get('x-ratelimit-limit')).toBeNull();
  });
});

describe('RATE_LIMIT_MAX', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startApp({ RATE_LIMIT_MAX: '3' });
  });
  afterAll(() => server.close());

  it('answers 429 after the limit, with the error format', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await postJson(`${server.url}/predict`, PATIENT);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.headers.get('retry-after')).not.toBeNull();
    expect(last!.body.error).toBe('Too Many Requests');
  });
});

describe('logs: JSON lines with the request id, no patient data by default', () => {
  async function logsOf(env: Record<string, string>, request: (app: FastifyInstance) => Promise<unknown>) {
    const lines: Record<string, unknown>[] = [];
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    const app = await buildApp(testConfig({ LOG_LEVEL: 'trace', ...env }), { logStream });
    await request(app);
    await app.close();
    return lines;
  }
  // Distinctive values that only the patient body contains.
  const patient = { ...PATIENT, chol: 417.25, trestbps: 151.75 };
  const send = (app: FastifyInstance) =>
    app.inject({
      method: 'POST',
      url: '/predict',
      payload: patient,
      headers: { 'x-request-id': 'log-check-1', authorization: 'Bearer secret-token-0123456789' },
    });

  it('logs the request with its id but neither the body nor credentials, even at trace level', async () => {
    const lines = await logsOf({}, send);
    const text = JSON.stringify(lines);
    expect(lines.some((l) => l.requestId === 'log-check-1' && l.msg === 'incoming request')).toBe(true);
    expect(lines.some((l) => l.requestId === 'log-check-1' && l.msg === 'request completed')).toBe(true);
    expect(text).not.toContain('417.25');
    expect(text).not.toContain('151.75');
    expect(text).not.toContain('secret-token');
  });

  it('LOG_PATIENT_DATA=true logs the validated rows at debug level (opt-in)', async () => {
    const lines = await logsOf({ LOG_PATIENT_DATA: 'true' }, send);
    expect(JSON.stringify(lines)).toContain('417.25');
  });
});
