import { describe, expect, it } from 'vitest';
import { DriftMonitor } from '../../src/drift/monitor.js';
import { buildReferences } from '../../src/drift/reference.js';
import type { Feature } from '../../src/features/feature-schema.js';

const features: Feature[] = [
  { name: 'x', example: 0, label: 'X', type: 'numeric', integer: false, unit: 'u', min: -100, max: 100, required: true, description: 'x' },
  {
    name: 'c',
    example: 1,
    label: 'C',
    type: 'categorical',
    required: false,
    description: 'c',
    codes: [
      { code: 0, label: 'a' },
      { code: 1, label: 'b' },
    ],
  },
];

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Rows of (x ~ roughly normal(mean, 10), c ~ Bernoulli(pOne)). */
function sample(n: number, seed: number, mean = 0, pOne = 0.3): number[][] {
  const next = rng(seed);
  return Array.from({ length: n }, () => {
    const x = mean + 10 * (next() + next() + next() + next() - 2) * Math.sqrt(3);
    return [x, next() < pOne ? 1 : 0];
  });
}

const training = sample(1000, 1);
const reference = buildReferences(features, [training.map((r) => r[0]!), training.map((r) => r[1]!)]);

describe('DriftMonitor', () => {
  it('reports ok for traffic like training and drift for a shifted feature', () => {
    const same = new DriftMonitor(reference, features);
    same.observe(sample(500, 2));
    expect(same.status().status).toBe('ok');

    const shifted = new DriftMonitor(reference, features);
    shifted.observe(sample(500, 3, 12, 0.3));
    const s = shifted.status();
    expect(s.status).toBe('drift');
    expect(s.features.x!.status).toBe('drift');
    expect(s.features.x!.ks).toBeGreaterThan(s.features.x!.ksCritical!);
    expect(s.features.c!.status).toBe('ok');
  });

  it('counts a feature that goes missing as drift and reports the missing shares', () => {
    const m = new DriftMonitor(reference, features);
    m.observe(sample(200, 4).map(([x]) => [x!, Number.NaN]));
    const c = m.status().features.c!;
    expect(c.missingShare).toBe(1);
    expect(c.referenceMissingShare).toBe(0);
    expect(c.status).toBe('drift');
    expect(c.ks).toBeUndefined(); // KS only for numerics
  });

  it('keeps a sliding window: after wrap-around it equals a monitor fed only the latest rows', () => {
    const rows = [...sample(300, 5, 12), ...sample(120, 6)];
    const ring = new DriftMonitor(reference, features, { windowSize: 100, minSamples: 10 });
    for (let i = 0; i < rows.length; i += 7) ring.observe(rows.slice(i, i + 7));
    const fresh = new DriftMonitor(reference, features, { windowSize: 100, minSamples: 10 });
    fresh.observe(rows.slice(-100));
    expect(ring.status().sampleCount).toBe(100);
    expect(ring.status().features).toEqual(fresh.status().features);
    expect(ring.status().status).toBe('ok'); // the shifted rows have left the window
  });

  it('stays ok with insufficientData below minSamples, then judges', () => {
    const m = new DriftMonitor(reference, features, { minSamples: 50 });
    expect(m.status()).toMatchObject({ status: 'ok', sampleCount: 0, insufficientData: true });
    m.observe(sample(49, 7, 30));
    expect(m.status()).toMatchObject({ status: 'ok', insufficientData: true });
    expect(m.status().features.x!.status).toBe('ok');
    m.observe(sample(1, 8, 30));
    expect(m.status()).toMatchObject({ status: 'drift', sampleCount: 50, insufficientData: false });
  });

  it('caches the status until new rows arrive', () => {
    const m = new DriftMonitor(reference, features);
    m.observe(sample(60, 9));
    const first = m.status();
    expect(m.status()).toBe(first);
    m.observe(sample(1, 10));
    expect(m.status()).not.toBe(first);
    expect(m.status().sampleCount).toBe(61);
  });

  it('refuses a reference that does not match the schema', () => {
    expect(() => new DriftMonitor({ x: reference.x! }, features)).toThrow(/no reference distribution for feature "c"/);
    expect(() => new DriftMonitor({ x: reference.c!, c: reference.c! }, features)).toThrow(/categorical, schema says numeric/);
    expect(() => new DriftMonitor(reference, features, { windowSize: 0 })).toThrow(/windowSize/);
    const x = reference.x!;
    if (x.kind !== 'numeric') throw new Error('x should be numeric');
    expect(() => new DriftMonitor({ ...reference, x: { ...x, proportions: x.proportions.slice(1) } }, features)).toThrow(
      /"x".*malformed: \d+ proportions/,
    );
    expect(() => new DriftMonitor({ ...reference, x: { ...x, quantiles: [...x.quantiles].reverse() } }, features)).toThrow(/quantiles/);
  });
});
