/**
 * A table of malformed requests against the real server on 127.0.0.1: every one must get a 4xx with a message that
 * names the offending field, never a 5xx, and the server must still answer a valid prediction afterwards.
 * Most rows are generated from the feature schema (types, ranges, codes, required fields), so a schema change
 * grows the table instead of silently leaving it stale.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features/feature-schema.js';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';

const MAX_BATCH = 50;
const BODY_LIMIT = 65_536;

interface Case {
  name: string;
  path?: string;
  method?: string;
  /** JSON-serialised unless `raw` is set. */
  body?: unknown;
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Text the error must contain (field name, rule...). */
  mentions: string[];
  v2?: boolean;
}

const withPatient = (changes: Record<string, unknown>) => ({ ...PATIENT, ...changes });
const without = (name: string) => Object.fromEntries(Object.entries(PATIENT).filter(([k]) => k !== name));
const tensor = (overrides: Record<string, unknown> = {}, data: unknown = Object.values(PATIENT)) => ({
  inputs: [{ name: 'features', shape: [1, FEATURES.length], datatype: 'FP32', data, ...overrides }],
});
const V2 = '/v2/models/heart-disease/infer';

const schemaCases: Case[] = FEATURES.flatMap((feature): Case[] => {
  const cases: Case[] = [
    {
      name: `${feature.name}: string instead of a number`,
      body: withPatient({ [feature.name]: 'abc' }),
      mentions: [feature.name, 'must be'],
    },
  ];
  if (feature.type === 'numeric') {
    cases.push(
      {
        name: `${feature.name}: below minimum ${feature.min}`,
        body: withPatient({ [feature.name]: feature.min - 1 }),
        mentions: [feature.name, `>= ${feature.min}`],
      },
      {
        name: `${feature.name}: above maximum ${feature.max}`,
        body: withPatient({ [feature.name]: feature.max + 1 }),
        mentions: [feature.name, `<= ${feature.max}`],
      },
    );
    if (feature.integer) {
      cases.push({
        name: `${feature.name}: not an integer`,
        body: withPatient({ [feature.name]: feature.min + 0.5 }),
        mentions: [feature.name, 'integer'],
      });
    }
  } else {
    const bad = Math.max(...feature.codes.map((c) => c.code)) + 10;
    cases.push({
      name: `${feature.name}: code ${bad} not allowed`,
      body: withPatient({ [feature.name]: bad }),
      mentions: [feature.name, `${feature.codes[0]!.code} (${feature.codes[0]!.label})`],
    });
  }
  if (feature.required) {
    cases.push(
      { name: `${feature.name}: required field missing`, body: without(feature.name), mentions: [feature.name, 'required'] },
      { name: `${feature.name}: required field null`, body: withPatient({ [feature.name]: null }), mentions: [feature.name] },
    );
  }
  return cases;
});

const requestCases: Case[] = [
  { name: 'unknown field', body: withPatient({ cholesterol: 200 }), mentions: ['cholesterol', 'unknown field', 'age, sex'] },
  { name: 'misspelled field and missing required', body: { ...without('age'), Age: 63 }, mentions: ['Age', 'age'] },
  { name: 'invalid JSON', raw: '{"age": 63,', mentions: ['JSON'] },
  { name: 'NaN literal (not JSON)', raw: '{"age": NaN}', mentions: ['JSON'] },
  { name: 'empty body with JSON content type', raw: '', mentions: ['empty'] },
  { name: 'wrong content type text/plain', raw: JSON.stringify(PATIENT), contentType: 'text/plain', mentions: ['application/json'] },
  { name: 'form-urlencoded body', raw: 'age=63&sex=1', contentType: 'application/x-www-form-urlencoded', mentions: ['application/json'] },
  { name: 'body is an array', body: [PATIENT], mentions: ['(body)', 'object'] },
  { name: 'body is a number', body: 42, mentions: ['(body)', 'object'] },
  { name: 'body is null', raw: 'null', mentions: ['(body)'] },
  { name: 'value is an object', body: withPatient({ age: { value: 63 } }), mentions: ['age', 'integer'] },
  { name: 'value is a boolean', body: withPatient({ exang: true }), mentions: ['exang'] },
  { name: 'number overflowing to Infinity', raw: JSON.stringify(PATIENT).replace('"chol":233', '"chol":1e400'), mentions: ['chol'] },
  { name: 'prototype poisoning', raw: `{"__proto__": {"admin": true}, "age": 63, "sex": 1, "cp": 1}`, mentions: ['__proto__'] },
  {
    name: 'oversized body',
    raw: JSON.stringify({ instances: Array.from({ length: 600 }, () => PATIENT) }),
    mentions: [`${BODY_LIMIT} bytes`],
  },
  {
    name: 'batch too large',
    body: { instances: Array.from({ length: MAX_BATCH + 1 }, () => ({ age: 50, sex: 0, cp: 2 })) },
    mentions: ['instances', `at most ${MAX_BATCH}`],
  },
  { name: 'empty batch', body: { instances: [] }, mentions: ['instances', 'at least 1'] },
  { name: 'instances is not an array', body: { instances: PATIENT }, mentions: ['instances', 'array'] },
  {
    name: 'bad row inside a batch',
    body: { instances: [PATIENT, withPatient({ thalach: 20 })] },
    mentions: ['instances[1].thalach', '>= 50'],
  },
  { name: 'unknown field beside instances', body: { instances: [PATIENT], model: 'x' }, mentions: ['model', 'unknown field'] },
  { name: 'explain flag not a boolean', path: '/predict?explain=maybe', body: PATIENT, mentions: ['explain'] },
  { name: 'GET on /predict', method: 'GET', path: '/predict', mentions: ['/predict'] },
  // Open Inference Protocol (KServe V2) tensors: protocol error shape { error }.
  { name: 'V2: wrong input name', path: V2, body: tensor({ name: 'input0' }), mentions: ['input0', 'features'], v2: true },
  { name: 'V2: wrong datatype', path: V2, body: tensor({ datatype: 'INT64' }), mentions: ['datatype', 'FP32'], v2: true },
  {
    name: 'V2: shape [1, 12]',
    path: V2,
    body: tensor({ shape: [1, 12] }, Object.values(PATIENT).slice(0, 12)),
    mentions: ['shape', '13'],
    v2: true,
  },
  { name: 'V2: 3-d shape', path: V2, body: tensor({ shape: [1, 1, 13] }), mentions: ['shape'], v2: true },
  { name: 'V2: data shorter than shape', path: V2, body: tensor({ shape: [2, 13] }), mentions: ['26'], v2: true },
  {
    name: 'V2: nested data not matching shape',
    path: V2,
    body: tensor({ shape: [2, 13] }, [Object.values(PATIENT), [1, 2]]),
    mentions: ['data[1]'],
    v2: true,
  },
  {
    name: 'V2: value out of range',
    path: V2,
    body: tensor({}, Object.values(withPatient({ chol: 5000 }))),
    mentions: ['chol', '700'],
    v2: true,
  },
  {
    name: 'V2: null for a required feature',
    path: V2,
    body: tensor({}, Object.values(withPatient({ age: null }))),
    mentions: ['age', 'required'],
    v2: true,
  },
  { name: 'V2: string in data', path: V2, body: tensor({}, Object.values(withPatient({ sex: 'male' }))), mentions: ['sex'], v2: true },
  { name: 'V2: no inputs', path: V2, body: { inputs: [] }, mentions: ['inputs'], v2: true },
  { name: 'V2: inputs missing', path: V2, body: { id: '1' }, mentions: ['inputs'], v2: true },
  { name: 'V2: unknown model', path: '/v2/models/other-model/infer', body: tensor(), mentions: ['other-model'], v2: true },
  { name: 'V2: unknown requested output', path: V2, body: { ...tensor(), outputs: [{ name: 'logits' }] }, mentions: ['logits'], v2: true },
  {
    name: 'V2: batch larger than MAX_BATCH_SIZE',
    path: V2,
    body: tensor(
      { shape: [MAX_BATCH + 1, 13] },
      Array.from({ length: MAX_BATCH + 1 }, () => Object.values(PATIENT)),
    ),
    mentions: [`${MAX_BATCH}`],
    v2: true,
  },
  { name: 'V2: invalid JSON', path: V2, raw: '{"inputs": [', mentions: ['JSON'], v2: true },
  {
    name: 'V2: binary tensor extension (not supported)',
    path: V2,
    raw: JSON.stringify(tensor()) + '\u0000\u0001',
    contentType: 'application/octet-stream',
    headers: { 'inference-header-content-length': String(JSON.stringify(tensor()).length) },
    mentions: ['binary tensor data extension'],
    v2: true,
  },
];

const cases = [...schemaCases, ...requestCases];

describe('bad input: every malformed request gets a 4xx naming the problem, never a 5xx', () => {
  let server: RunningApp;
  const statuses: number[] = [];
  beforeAll(async () => {
    server = await startApp({ MAX_BATCH_SIZE: String(MAX_BATCH), BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  });
  afterAll(() => server.close());

  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const method = c.method ?? 'POST';
    const res = await fetch(`${server.url}${c.path ?? '/predict'}`, {
      method,
      headers: method === 'POST' ? { 'content-type': c.contentType ?? 'application/json', ...c.headers } : {},
      body: method === 'POST' ? (c.raw ?? JSON.stringify(c.body)) : undefined,
    });
    statuses.push(res.status);
    const text = await res.text();
    expect(res.status, text).toBeGreaterThanOrEqual(400);
    expect(res.status, text).toBeLessThan(500);
    const body = JSON.parse(text) as { error: string; message?: string; details?: { field: string; rule: string }[] };
    expect(typeof body.error).toBe('string');
    if (c.v2) {
      // Protocol error object: { "error": "<message>" } only.
      expect(Object.keys(body)).toEqual(['error']);
    } else {
      expect(typeof body.message).toBe('string');
      expect(Array.isArray(body.details)).toBe(true);
    }
    const said = c.v2 ? body.error : `${body.message} ${JSON.stringify(body.details)}`;
    for (const word of c.mentions) expect(said).toContain(word);
    expect(text).not.toMatch(/\bat \S+ \(.*:\d+:\d+\)/); // no stack traces
  });

  it('answered no 5xx and still serves valid predictions afterwards', async () => {
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    const ok = await postJson(`${server.url}/predict`, PATIENT);
    expect(ok.status).toBe(200);
    expect(ok.body.probability).toBeGreaterThan(0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).not.toMatch(/hd_http_requests_total\{[^}]*status_code="5\d\d"/);
  });
});
