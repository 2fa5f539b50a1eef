/**
 * Refused traffic is monitored (issue 11, finding 5). A new source that writes 0 for every value it did not measure
 * (the Hungarian hospital's rows, each '?' sent as 0) is refused row after row: the drift window never fills, so
 * /drift/status used to read `ok` with insufficientData and /metrics said nothing about why. Now both count the
 * refused rows by field and rule, and /drift/status reads `refused`. Expected counts come from the data and the
 * feature schema, not from the API.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES, valueProblem } from '../../src/features/feature-schema.js';
import { parseUciText } from '../../src/train/data/uci-file.js';
import { hungarianFile } from '../support/paths.js';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';
import { parseSamples, sampleValue } from './support/prometheus-text.js';

/** Hungarian rows as a source that writes 0 for "not measured". */
const rows = parseUciText(hungarianFile, readFileSync(hungarianFile, 'utf8'), FEATURES).rows.map((row) =>
  row.map((v) => (Number.isNaN(v) ? 0 : v)),
);
const patientOf = (row: readonly number[]) => Object.fromEntries(FEATURES.map((f, j) => [f.name, row[j]!]));

/** Refused rows per field and rule, as the feature schema decides them. */
function expectedRefusals() {
  const byFieldRule = new Map<string, number>();
  let refused = 0;
  for (const row of rows) {
    const broken = FEATURES.flatMap((f, j) => {
      const problem = valueProblem(f, row[j]);
      return problem ? [`${f.name} ${problem.kind}`] : [];
    });
    if (broken.length > 0) refused++;
    for (const key of broken) byFieldRule.set(key, (byFieldRule.get(key) ?? 0) + 1);
  }
  return { refused, byFieldRule };
}

describe('refused traffic in /metrics and /drift/status', () => {
  let server: RunningApp;
  const expected = expectedRefusals();
  beforeAll(async () => {
    server = await startApp({ DRIFT_WINDOW_SIZE: '500' });
  });
  afterAll(() => server.close());

  it('the source is mostly refused (the premise of this test)', () => {
    expect(expected.refused / rows.length).toBeGreaterThan(0.5);
  });

  it('every refused row is counted by field and rule, in /metrics and in /drift/status, and the status says refused', async () => {
    let accepted = 0;
    for (const row of rows) accepted += (await postJson(`${server.url}/predict`, patientOf(row))).status === 200 ? 1 : 0;
    expect(accepted).toBe(rows.length - expected.refused);

    const samples = parseSamples(await (await fetch(`${server.url}/metrics`)).text());
    expect(sampleValue(samples, 'hd_refused_rows_total')).toBe(expected.refused);
    const counted = new Map(
      samples.filter((s) => s.name === 'hd_refusals_total').map((s) => [`${s.labels.field} ${s.labels.rule}`, s.value] as const),
    );
    expect(counted).toEqual(expected.byFieldRule);

    const status = (await (await fetch(`${server.url}/drift/status`)).json()) as {
      status: string;
      refusals: {
        windowRows: number;
        refusedRows: number;
        refusedShare: number;
        mostlyRefused: boolean;
        byField: Record<string, Record<string, number>>;
      };
    };
    expect(status.status).toBe('refused');
    expect(status.refusals).toMatchObject({ windowRows: rows.length, refusedRows: expected.refused, mostlyRefused: true });
    const byField = new Map(
      Object.entries(status.refusals.byField).flatMap(([field, rules]) =>
        Object.entries(rules).map(([rule, n]) => [`${field} ${rule}`, n] as const),
      ),
    );
    expect(byField).toEqual(expected.byFieldRule);
    expect(sampleValue(samples, 'hd_refused_share')).toBeCloseTo(expected.refused / rows.length, 6);
  });

  it('a refused batch counts its refused rows only; the same rows through V2 are counted the same way', async () => {
    const before = parseSamples(await (await fetch(`${server.url}/metrics`)).text());
    const good: Record<string, number> = PATIENT;
    const bad: Record<string, number> = { ...PATIENT, age: 7, chol: 0 };
    const batch = await postJson(`${server.url}/predict`, { instances: [good, bad, bad] });
    expect(batch.status).toBe(400);
    const v2 = await postJson(`${server.url}/v2/models/heart-disease/infer`, {
      inputs: [{ name: 'features', shape: [2, 13], datatype: 'FP32', data: [bad, bad].map((p) => FEATURES.map((f) => p[f.name])) }],
    });
    expect(v2.status).toBe(400);
    const after = parseSamples(await (await fetch(`${server.url}/metrics`)).text());
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta('hd_refused_rows_total')).toBe(4);
    expect(delta('hd_refusals_total', { field: 'age', rule: 'minimum' })).toBe(4);
    expect(delta('hd_refusals_total', { field: 'chol', rule: 'minimum' })).toBe(4);
  });
});
