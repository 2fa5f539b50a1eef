/**
 * Hostile bodies (issue 11, findings 1 and 7) against the real server on 127.0.0.1: deep nesting, poisoning keys,
 * duplicate keys, and property-generated bodies of any shape (fast-check). Every answer must be a 4xx or 2xx in the
 * route's error shape, never a 5xx or a stack trace, and the server must count no 5xx afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { PATIENT, startApp, type RunningApp } from './support/app.js';
import { parseSamples } from './support/prometheus-text.js';

const V2 = '/v2/models/heart-disease/infer';
const ROUTES = ['/predict', V2] as const;

/** ~20 KB: `levels` nested arrays (or objects) around a value that contains the given text. */
function nested(levels: number, inner: string, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array' ? '['.repeat(levels) + inner + ']'.repeat(levels) : '{"a":'.repeat(levels) + inner + '}'.repeat(levels);
}

async function post(url: string, raw: string | Buffer, contentType = 'application/json') {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof raw === 'string' ? raw : new Uint8Array(raw),
  });
  const text = await res.text();
  return { status: res.status, text, body: safeJson(text) };
}

function safeJson(text: string): Record<string, unknown> | null {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

describe('hostile bodies: 4xx naming the problem, never a 5xx', () => {
  let server: RunningApp;
  const statuses: number[] = [];
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  const expectClientError = (answer: { status: number; text: string }, route: string) => {
    statuses.push(answer.status);
    expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
    expect(answer.status, answer.text).toBeLessThan(500);
    expect(answer.text).not.toMatch(/\bat \S+ \(.*:\d+:\d+\)/);
    const body = safeJson(answer.text)!;
    expect(typeof body.error).toBe('string');
    if (route === V2) expect(Object.keys(body)).toEqual(['error']);
  };

  describe.each(ROUTES)('%s', (route) => {
    // Finding 1: ~20 KB nested 10,000 deep, with `constructor` or `__proto__` anywhere (even in a string), overflowed
    // the stack of a recursive key check: 500 and a stack trace.
    it.each([
      ['constructor in a string', nested(10_000, '"constructor"')],
      ['__proto__ in a string', nested(10_000, '"__proto__"')],
      ['constructor as a key', nested(10_000, '{"constructor":{"prototype":1}}')],
      ['objects 10,000 deep with __proto__', nested(10_000, '{"__proto__":1}', 'object')],
      ['no special word', nested(10_000, '1')],
    ])('deeply nested body (%s) → 400 naming the depth limit', async (_name, raw) => {
      const answer = await post(`${server.url}${route}`, raw);
      expectClientError(answer, route);
      expect(answer.status).toBe(400);
      expect(answer.text).toContain('nested deeper than 32 levels');
    });

    // Finding 7: {"age":200, …, "age":63} was scored with the last value.
    it('a key given twice in one object → 400 naming the key', async () => {
      const raw =
        route === V2
          ? `{"inputs":[{"name":"features","shape":[1,13],"datatype":"FP32","datatype":"FP32","data":${JSON.stringify(FEATURE_NAMES.map((n) => PATIENT[n]))}}]}`
          : `{"age":200,${JSON.stringify(PATIENT).slice(1)}`;
      const answer = await post(`${server.url}${route}`, raw);
      expectClientError(answer, route);
      expect(answer.status).toBe(400);
      expect(answer.text).toContain(route === V2 ? "'datatype' twice" : "'age' twice");
      expect(answer.text).toContain(route === V2 ? 'inputs[0].datatype' : '"field":"age"');
    });

    it('duplicates written with escapes are the same key ("age" and "\\u0061ge"), inside a batch', async () => {
      const raw = `{"instances":[${JSON.stringify(PATIENT)},{"\\u0061ge":50,${JSON.stringify(PATIENT).slice(1)}]}`;
      const answer = await post(`${server.url}/predict`, raw);
      expectClientError(answer, '/predict');
      expect(answer.text).toContain('instances[1].age');
    });
  });

  it('prototype poisoning keys are refused with their path', async () => {
    const answer = await post(`${server.url}/predict`, `{"instances":[{"constructor":{"prototype":{"x":1}}}]}`);
    expectClientError(answer, '/predict');
    expect(answer.text).toContain('instances[0].constructor.prototype');
  });

  it('fast-check: 300 generated bodies of any shape, encoding and depth get 4xx or 2xx on both routes', async () => {
    const patientish = fc.dictionary(fc.constantFrom(...FEATURE_NAMES, 'instances', '__proto__', 'constructor'), fc.jsonValue(), {
      maxKeys: 14,
    });
    const text = fc.oneof(
      fc.json({ depthSize: 'large' }),
      patientish.map((o) => JSON.stringify(o)),
      fc.record({ instances: fc.array(patientish, { maxLength: 5 }) }).map((o) => JSON.stringify(o)),
      fc.jsonValue().map((v) => JSON.stringify({ inputs: [{ name: 'features', shape: [1, 13], datatype: 'FP32', data: v }] })),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.integer({ min: 1, max: 3000 }).map((n) => nested(n, '{"a":1,"a":2}')),
      fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))), // truncated
    );
    const bytes = fc.oneof(
      text.map((t) => Buffer.from(t, 'utf8')),
      text.map((t) => Buffer.from(t, 'utf16le')),
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    );
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-16', 'application/octet-stream', 'text/plain');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), bytes, contentType, async (route, body, type) => {
        const answer = await post(`${server.url}${route}`, body, type);
        statuses.push(answer.status);
        expect(answer.status, answer.text).toBeLessThan(500);
        expect(answer.text).not.toMatch(/\bat \S+ \(.*:\d+:\d+\)/);
      }),
      { numRuns: 300 },
    );
  });

  it('answered no 5xx, counted none in /metrics, and still predicts', async () => {
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.length).toBeGreaterThan(300);
    const samples = parseSamples(await (await fetch(`${server.url}/metrics`)).text());
    expect(samples.filter((s) => s.name === 'hd_http_requests_total' && s.labels.status_code?.startsWith('5'))).toEqual([]);
    const ok = await post(`${server.url}/predict`, JSON.stringify(PATIENT));
    expect(ok.status).toBe(200);
  });
});
