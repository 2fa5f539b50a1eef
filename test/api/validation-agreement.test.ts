/**
 * The published /predict contract (the Patient and PatientBatch JSON Schemas in the OpenAPI document) and the code
 * that reads requests (the shared row validation) are two descriptions of one set of rules. A property test checks
 * they agree: for generated bodies, Ajv on the published schema accepts exactly what readPredictBody accepts.
 */
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FEATURES, type Feature } from '../../src/features/feature-schema.js';
import { readPredictBody } from '../../src/api/protocol/predict/request.js';
import { InvalidInputError } from '../../src/api/dataplane/refusals.js';
import { batchSchema, patientSchema } from '../../src/api/schemas/patient.js';

const MAX_BATCH = 4;

function publishedValidator() {
  // The options Fastify's Ajv uses for this API (app.ts): no coercion, no defaults, every error.
  const ajv = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: true, strict: false });
  ajv.addSchema(patientSchema);
  ajv.addSchema(batchSchema(MAX_BATCH));
  return ajv.compile({ oneOf: [{ $ref: 'Patient#' }, { $ref: 'PatientBatch#' }] });
}

/** A value the feature accepts (bounds included). */
function validValue(feature: Feature): fc.Arbitrary<unknown> {
  if (feature.type === 'categorical') return fc.constantFrom(...feature.codes.map((c) => c.code));
  const { min, max } = feature;
  const inRange = feature.integer ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true });
  return fc.oneof(fc.constantFrom(min, max), inRange);
}

/** Values near and across each feature's rules, plus the wrong types a client might send. */
function anyValue(feature: Feature): fc.Arbitrary<unknown> {
  const wrong = fc.oneof(fc.constant(null), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant({}), fc.constant([1]));
  if (feature.type === 'categorical') {
    return fc.oneof(fc.integer({ min: -2, max: 10 }), fc.double({ min: -2, max: 10, noNaN: true }), wrong);
  }
  const { min, max } = feature;
  return fc.oneof(
    fc.constantFrom(min - 1, max + 1, min + 0.5, max - 0.5, Infinity, -Infinity),
    fc.integer({ min: Math.floor(min) - 5, max: Math.ceil(max) + 5 }),
    fc.double({ min: min - 5, max: max + 5, noNaN: true }),
    wrong,
  );
}

/** A valid patient (optional features sometimes left out or null), then 0 to 2 values replaced or keys added. */
const patient: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.record(Object.fromEntries(FEATURES.map((f) => [f.name, f.required ? validValue(f) : fc.oneof(validValue(f), fc.constant(null))])), {
      requiredKeys: FEATURES.filter((f) => f.required).map((f) => f.name),
    }),
    fc.array(
      fc.oneof(
        fc.constantFrom(...FEATURES).chain((f) => anyValue(f).map((value) => [f.name, value] as const)),
        fc.constantFrom('Age', 'cholesterol', 'instances_').map((key) => [key, 1] as const),
        fc.constantFrom(...FEATURES.filter((f) => f.required)).map((f) => [f.name, undefined] as const),
      ),
      { maxLength: 2 },
    ),
  )
  .map(([record, changes]) => {
    const changed: Record<string, unknown> = { ...record };
    for (const [key, value] of changes) {
      if (value === undefined) delete changed[key];
      else changed[key] = value;
    }
    return changed;
  });

const body = fc.oneof(
  { weight: 5, arbitrary: patient },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof({ weight: 5, arbitrary: patient }, { weight: 1, arbitrary: fc.anything() }), { maxLength: MAX_BATCH + 1 })
      .map((instances) => ({ instances })),
  },
  { weight: 1, arbitrary: fc.record({ instances: fc.anything(), model: fc.string() }, { requiredKeys: ['instances'] }) },
  { weight: 1, arbitrary: fc.anything() },
);

async function accepted(value: unknown): Promise<boolean> {
  try {
    await readPredictBody(value, MAX_BATCH, 100);
    return true;
  } catch (error) {
    if (error instanceof InvalidInputError) return false;
    throw error;
  }
}

describe('the published /predict schema and the shared validation agree', () => {
  const validate = publishedValidator();

  it('accept exactly the same bodies (fast-check, 5,000 bodies)', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        expect(await accepted(value), JSON.stringify(value)).toBe(validate(value));
      }),
      { numRuns: 5000 },
    );
  });

  it('the generator reaches both outcomes often (the property above can fail)', () => {
    const sample = fc.sample(body, { numRuns: 2000, seed: 1 });
    const ok = sample.filter((value) => validate(value)).length;
    expect(ok).toBeGreaterThan(100);
    expect(sample.length - ok).toBeGreaterThan(100);
  });
});
