/**
 * The median's order-statistic interval: its coverage against binomial probabilities computed here from factorials,
 * its bounds against sorted values, and its actual coverage against simulated draws of a skewed distribution.
 */
import { describe, expect, it } from 'vitest';
import { medianInterval } from '../../scripts/lib/median-interval.js';

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
const choose = (n: number, k: number): number => factorial(n) / (factorial(k) * factorial(n - k));
/** P(x(k) <= median <= x(n+1-k)) = 1 - 2·sum_{i<k} C(n,i)/2^n. */
const coverageOf = (n: number, k: number): number =>
  1 - (2 * Array.from({ length: k }, (_, i) => choose(n, i)).reduce((a, b) => a + b, 0)) / 2 ** n;

describe('medianInterval', () => {
  it('for 8 values at 90 %: the 2nd and 7th smallest, covering 1 - 18/256', () => {
    const values = [0.84, 0.82, 0.99, 0.8, 0.83, 0.77, 0.86, 1.03];
    expect(medianInterval(values, 0.9)).toEqual({ low: 0.8, high: 0.99, coverage: coverageOf(8, 2) });
    expect(coverageOf(8, 2)).toBeCloseTo(1 - 18 / 256, 12);
  });

  it('picks the narrowest interval that reaches the level, for every n up to 40', () => {
    for (let n = 1; n <= 40; n++) {
      const values = Array.from({ length: n }, (_, i) => n - i); // reversed: sorting matters
      const { low, high, coverage } = medianInterval(values, 0.95);
      let k = 0;
      while (k + 1 <= Math.floor(n / 2) && coverageOf(n, k + 1) >= 0.95) k++;
      if (k === 0) {
        expect([low, high, coverage]).toEqual([1, n, null]);
      } else {
        expect([low, high]).toEqual([k, n + 1 - k]);
        expect(coverage).toBeCloseTo(coverageOf(n, k), 12);
      }
    }
  });

  it('covers the true median at least as often as it says, on an exponential distribution', () => {
    // mulberry32: a small seeded generator, so the check is the same on every run.
    let seed = 42;
    const uniform = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
    };
    const trueMedian = Math.LN2; // of Exp(1)
    let covered = 0;
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const draws = Array.from({ length: 8 }, () => -Math.log(uniform()));
      const { low, high } = medianInterval(draws, 0.9);
      if (low <= trueMedian && trueMedian <= high) covered++;
    }
    expect(covered / trials).toBeGreaterThan(coverageOf(8, 2) - 0.02);
    expect(covered / trials).toBeLessThan(coverageOf(8, 2) + 0.02);
  });

  it('refuses no values', () => {
    expect(() => medianInterval([])).toThrow(/no values/);
  });
});
