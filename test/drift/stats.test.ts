import { describe, expect, it } from 'vitest';
import { buildCategoricalReference, buildNumericReference, numericBin } from '../../src/drift/reference.js';
import {
  binOf,
  chiSquareCritical,
  featureLevel,
  ksCritical,
  ksStatistic,
  normalQuantile,
  psi,
  psiCritical,
  referenceCdf,
  referenceCounts,
  worstLevel,
} from '../../src/drift/stats.js';

/** Deterministic pseudo-random numbers (LCG) so the tests are reproducible. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

describe('psi', () => {
  it('is zero for identical distributions and matches the formula by hand', () => {
    expect(psi([10, 20, 30], [20, 40, 60], 0).psi).toBeCloseTo(0, 12);
    expect(psi([10, 20, 30], [20, 40, 60]).psi).toBeLessThan(1e-3); // smoothing differs slightly with sample size
    // 0.5/0.5 vs 0.9/0.1 without smoothing: 0.4·ln(1.8) + 0.4·ln(5)
    const byHand = 0.4 * Math.log(1.8) + 0.4 * Math.log(5);
    expect(psi([50, 50], [90, 10], 0).psi).toBeCloseTo(byHand, 12);
  });

  it('stays finite when a bin is empty on one side and ignores bins empty on both', () => {
    const r = psi([100, 0, 0], [90, 10, 0]);
    expect(Number.isFinite(r.psi)).toBe(true);
    expect(r.psi).toBeGreaterThan(0.1);
    expect(r.bins).toBe(2);
    expect(psi([100, 0], [50, 0]).psi).toBeCloseTo(0, 12);
  });

  it('is symmetric (Jeffreys divergence)', () => {
    expect(psi([30, 50, 20], [10, 60, 30]).psi).toBeCloseTo(psi([10, 60, 30], [30, 50, 20]).psi, 12);
  });

  it('rejects count vectors of different lengths', () => {
    expect(() => psi([1, 2], [1])).toThrow(/length/);
  });
});

describe('critical values', () => {
  it('normal quantiles match tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232, 5);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 5);
  });

  it('chi-square critical values are within the documented Wilson–Hilferty error of tables', () => {
    const table: [number, number, number][] = [
      [1, 0.05, 3.841],
      [3, 0.001, 16.266],
      [9, 0.001, 27.877],
      [10, 0.05, 18.307],
    ];
    for (const [df, alpha, exact] of table) {
      const tolerance = df <= 3 ? 0.04 : 0.01;
      expect(Math.abs(chiSquareCritical(df, alpha) - exact) / exact).toBeLessThan(tolerance);
    }
    expect(chiSquareCritical(0, 0.01)).toBe(Number.POSITIVE_INFINITY);
  });

  it('the PSI noise gate shrinks as the window grows', () => {
    const small = psiCritical(11, 61, 242);
    const large = psiCritical(11, 500, 242);
    expect(small).toBeGreaterThan(large);
    expect(large).toBeGreaterThan(chiSquareCritical(10, 0.001) / 242); // never below the reference's own noise
  });

  it('the KS critical value is the two-sample formula', () => {
    expect(ksCritical(100, 100, 0.05)).toBeCloseTo(1.358 * Math.sqrt(2 / 100), 2);
  });
});

describe('reference CDF and KS', () => {
  const uniformQuantiles = Array.from({ length: 101 }, (_, i) => i); // U(0, 100)

  it('interpolates the quantile function', () => {
    expect(referenceCdf(uniformQuantiles, 37.5, 'right')).toBeCloseTo(0.375, 12);
    expect(referenceCdf(uniformQuantiles, -1, 'right')).toBe(0);
    expect(referenceCdf(uniformQuantiles, 100, 'right')).toBe(1);
  });

  it('has a jump where training repeats a value', () => {
    // 60 % zeros then values rising to 3
    const q = Array.from({ length: 101 }, (_, i) => (i <= 60 ? 0 : ((i - 60) / 40) * 3));
    expect(referenceCdf(q, 0, 'left')).toBe(0);
    expect(referenceCdf(q, 0, 'right')).toBeCloseTo(0.6, 12);
  });

  it('matches a brute-force supremum over a fine grid', () => {
    const next = rng(7);
    const sample = Array.from({ length: 80 }, () => Math.round(next() * 120 - 10)).sort((a, b) => a - b);
    let brute = 0;
    for (let x = -20; x <= 120; x += 0.001) {
      const ecdf = sample.filter((v) => v <= x).length / sample.length;
      brute = Math.max(brute, Math.abs(ecdf - referenceCdf(uniformQuantiles, x, 'right')));
    }
    const exact = ksStatistic(sample, uniformQuantiles);
    expect(exact).toBeGreaterThanOrEqual(brute - 1e-9);
    expect(exact - brute).toBeLessThan(0.02); // the grid misses left limits by at most one step
  });

  it('is small for a sample from the reference and large for a shifted one', () => {
    const next = rng(3);
    const same = Array.from({ length: 400 }, () => next() * 100).sort((a, b) => a - b);
    const shifted = same.map((v) => v + 25);
    expect(ksStatistic(same, uniformQuantiles)).toBeLessThan(ksCritical(400, 10_000));
    expect(ksStatistic(shifted, uniformQuantiles)).toBeGreaterThan(0.2);
  });
});

describe('binning', () => {
  it('live binning of the training values reproduces the reference exactly', () => {
    const next = rng(11);
    const values = Array.from({ length: 300 }, () => (next() < 0.05 ? Number.NaN : Math.round(40 + next() * 40)));
    const ref = buildNumericReference(values);
    const live = new Array<number>(referenceCounts(ref).length).fill(0);
    for (const v of values) live[binOf(ref, v)]!++;
    const expected = referenceCounts(ref);
    live.forEach((c, i) => expect(c).toBeCloseTo(expected[i]!, 9));
    expect(psi(expected, live).psi).toBeCloseTo(0, 9);
    expect(binOf(ref, 55)).toBe(numericBin(55, ref.edges));
  });

  it('categoricals get one bin per code, an unknown-code bin and a missing bin', () => {
    const ref = buildCategoricalReference([0, 1, 1, Number.NaN], [0, 1]);
    expect(binOf(ref, 0)).toBe(0);
    expect(binOf(ref, 1)).toBe(1);
    expect(binOf(ref, 5)).toBe(2);
    expect(binOf(ref, Number.NaN)).toBe(3);
    expect(binOf(ref, undefined)).toBe(3);
    expect(referenceCounts(ref)).toEqual([1, 2, 0, 1]);
  });
});

describe('levels', () => {
  it('applies bands only above the noise gate, KS at most to warning', () => {
    expect(featureLevel({ psi: 0.3, psiCritical: 0.2 })).toBe('drift');
    expect(featureLevel({ psi: 0.3, psiCritical: 0.5 })).toBe('ok');
    expect(featureLevel({ psi: 0.15, psiCritical: 0.1 })).toBe('warning');
    expect(featureLevel({ psi: 0.05, psiCritical: 0.01 })).toBe('ok');
    expect(featureLevel({ psi: 0.05, psiCritical: 0.5, ks: 0.4, ksCritical: 0.2 })).toBe('warning');
    expect(featureLevel({ psi: 0.05, psiCritical: 0.5, ks: 0.1, ksCritical: 0.2 })).toBe('ok');
    expect(worstLevel(['ok', 'drift', 'warning'])).toBe('drift');
    expect(worstLevel([])).toBe('ok');
  });
});
