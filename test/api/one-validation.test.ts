/**
 * One validation path (issue 10, part 3): /predict and the Open Inference Protocol route refuse the same broken value
 * with the same rule and allowed values, both taken from the feature schema; only the field's name (where the client
 * put the value) and the error envelope differ by protocol.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES, FEATURE_NAMES, valueProblem, type Feature } from '../../src/features/feature-schema.js';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';

const V2 = '/v2/models/heart-disease/infer';

/** Broken values per feature, generated from the schema: every rule kind it has. */
function brokenValues(feature: Feature): unknown[] {
  const values: unknown[] = ['abc', true, { value: 1 }];
  if (feature.type === 'numeric') {
    values.push(feature.min - 1, feature.max + 1);
    if (feature.integer) values.push(feature.min + 0.5);
  } else values.push(Math.max(...feature.codes.map((c) => c.code)) + 10);
  if (feature.required) values.push(null);
  return values;
}

const cases = FEATURES.flatMap((feature, j) => brokenValues(feature).map((value) => ({ feature, j, value })));
const tensorRows = (rows: unknown[][]) => ({
  inputs: [{ name: 'features', shape: [rows.length, FEATURES.length], datatype: 'FP32', data: rows }],
});
const rowOf = (patient: Record<string, unknown>) => FEATURE_NAMES.map((name) => patient[name] ?? null);

describe('one validation path for /predict and V2', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('covers every feature and every rule kind the schema has', () => {
    const kinds = new Set(cases.map((c) => valueProblem(c.feature, c.value)?.kind));
    expect([...kinds].sort()).toEqual(['code', 'integer', 'maximum', 'minimum', 'required', 'type']);
    expect(new Set(cases.map((c) => c.feature.name)).size).toBe(FEATURES.length);
  });

  it.each(cases.map((c) => [`${c.feature.name} = ${JSON.stringify(c.value)}`, c] as const))(
    '%s: same rule and allowed values on both routes',
    async (_name, { feature, j, value }) => {
      const expected = valueProblem(feature, value)!;
      expect(expected).not.toBeNull();

      const predict = await postJson(`${server.url}/predict`, { ...PATIENT, [feature.name]: value });
      expect(predict.status).toBe(400);
      expect(predict.body.details).toEqual([{ field: feature.name, rule: expected.rule, allowed: expected.allowed }]);

      const v2 = await postJson(`${server.url}${V2}`, tensorRows([rowOf({ ...PATIENT, [feature.name]: value })]));
      expect(v2.status).toBe(400);
      expect(Object.keys(v2.body)).toEqual(['error']);
      expect(v2.body.error).toBe(
        `invalid input 'features': inputs[0].data[0][${j}] (${feature.name}): ${expected.rule} (allowed: ${expected.allowed})`,
      );
    },
  );

  it('in a batch, the row is named where the client put it: instances[i].name and inputs[0].data[i][j] (name) or the flat index', async () => {
    const bad = { ...PATIENT, chol: 5000, age: 200 };
    const predict = await postJson(`${server.url}/predict`, { instances: [PATIENT, PATIENT, bad] });
    expect(predict.body.details.map((d) => d.field)).toEqual(['instances[2].age', 'instances[2].chol']);
    const nested = await postJson(`${server.url}${V2}`, tensorRows([rowOf(PATIENT), rowOf(PATIENT), rowOf(bad)]));
    expect(nested.body.error).toContain('inputs[0].data[2][0] (age): must be <= 100');
    expect(nested.body.error).toContain('inputs[0].data[2][4] (chol): must be <= 700');
    const flat = await postJson(`${server.url}${V2}`, {
      inputs: [{ name: 'features', shape: [3, 13], datatype: 'FP32', data: [...rowOf(PATIENT), ...rowOf(PATIENT), ...rowOf(bad)] }],
    });
    expect(flat.body.error).toContain(`inputs[0].data[${2 * 13 + 4}] (chol): must be <= 700`);
    // Both list the same rules in the same order.
    const rules = (text: string) => [...text.matchAll(/: (must be [^(;]+) \(allowed/g)].map((m) => m[1]!.trim());
    expect(rules(nested.body.error)).toEqual(predict.body.details.map((d) => d.rule));
  });

  it('V2 reports every broken value of the request at once, like /predict (not only the first)', async () => {
    const v2 = await postJson(`${server.url}${V2}`, tensorRows([rowOf({ ...PATIENT, chol: 5000 }), rowOf({ ...PATIENT, sex: 7 })]));
    expect(v2.body.error).toContain('data[0][4] (chol)');
    expect(v2.body.error).toContain('data[1][1] (sex)');
  });
});
