/**
 * The published contract says what the server does (issue 11, finding 6): path parameters as the paths have them,
 * 405 with Allow for a wrong method, an over-long path parameter answered in the documented error shape (not a
 * bare 414), V2 `parameters` accepting what its schema allows, and every operation declaring its error answers.
 * The independent checkers (openapi-spec-validator, Schemathesis) run in contract-checkers.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';

interface Operation {
  parameters?: { name: string; in: string }[];
  responses: Record<string, unknown>;
}
type OpenApi = { paths: Record<string, Record<string, Operation>> };

const tensor = (extra: Record<string, unknown> = {}) => ({
  ...extra,
  inputs: [{ name: 'features', shape: [1, 13], datatype: 'FP32', data: FEATURE_NAMES.map((n) => PATIENT[n]) }],
});

describe('the published contract matches the server', () => {
  let server: RunningApp;
  let doc: OpenApi;
  beforeAll(async () => {
    server = await startApp();
    doc = (await (await fetch(`${server.url}/docs/json`)).json()) as OpenApi;
  });
  afterAll(() => server.close());

  it('every operation declares exactly the path parameters its path has', () => {
    const problems: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries(operations)) {
        const declared = (op.parameters ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort();
        if (JSON.stringify(declared) !== JSON.stringify(inPath)) problems.push(`${method} ${path}: ${declared} vs ${inPath}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every operation declares its client-error and overload answers', () => {
    const missing = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, op]) =>
        ['4XX', '503'].filter((code) => !(code in op.responses)).map((code) => `${method} ${path} ${code}`),
      ),
    );
    expect(missing).toEqual([]);
  });

  it('a wrong method on a known path: 405 with Allow listing the methods served, in the route family error shape', async () => {
    for (const [path, method, allow] of [
      ['/predict', 'GET', 'POST'],
      ['/health', 'DELETE', 'GET, HEAD'],
      ['/v2/models/heart-disease/infer', 'PUT', 'POST'],
      ['/v2/models/heart-disease', 'POST', 'GET, HEAD'],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method, ...(method !== 'GET' && { body: '{}' }) });
      const body = (await res.json()) as Record<string, unknown>;
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      if (path.startsWith('/v2')) expect(Object.keys(body)).toEqual(['error']);
      else expect(body).toMatchObject({ error: 'Method Not Allowed', details: [] });
    }
    // An unknown path is still 404.
    expect((await fetch(`${server.url}/no/such/path`, { method: 'DELETE' })).status).toBe(404);
  });

  it('an over-long or malformed model name is answered in the documented { error } shape, not a bare 414', async () => {
    const long = await fetch(`${server.url}/v2/models/${'a'.repeat(300)}/ready`);
    expect(long.status).toBe(400);
    expect(Object.keys((await long.json()) as object)).toEqual(['error']);
    const malformed = await fetch(`${server.url}/v2/models/%zz/ready`);
    expect(malformed.status).toBe(400);
    expect(Object.keys((await malformed.json()) as object)).toEqual(['error']);
  });

  it('V2 `parameters` take any key with a scalar value, as the protocol and the schema say', async () => {
    const ok = await postJson(`${server.url}/v2/models/heart-disease/infer`, {
      ...tensor({ parameters: { content_type: 'np', constructor: 'x', prototype: 1, binary_data_output: false } }),
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const nested = await postJson(`${server.url}/v2/models/heart-disease/infer`, tensor({ parameters: { a: { b: 1 } } }));
    expect(nested.status).toBe(400);
    expect(nested.body.error).toContain('parameters.a');
  });
});
