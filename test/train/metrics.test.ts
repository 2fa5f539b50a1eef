import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  brierScore,
  calibrationBins,
  classificationMetrics,
  logLoss,
  rocAuc,
  rocCurve,
} from '../../src/metrics/classification.js';
import { createRandom } from '../../src/train/models/random.js';

/** Independent definitions, written the slow obvious way, to check the fast ones against. */
function rocAucByPairs(y: number[], p: number[]): number {
  let wins = 0;
  let pairs = 0;
  y.forEach((yi, i) =>
    y.forEach((yj, j) => {
      if (yi === 1 && yj === 0) {
        pairs++;
        wins += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
      }
    }),
  );
  return wins / pairs;
}

function averagePrecisionByDefinition(y: number[], p: number[]): number {
  // AP = mean over positives of the precision at that positive's score threshold (ties: all rows with score >= it).
  const positives = y.map((v, i) => (v === 1 ? i : -1)).filter((i) => i >= 0);
  const precisionAt = (t: number) => {
    const predicted = p.map((v, i) => [v, y[i]!] as const).filter(([v]) => v >= t);
    return predicted.filter(([, l]) => l === 1).length / predicted.length;
  };
  return positives.reduce((s, i) => s + precisionAt(p[i]!), 0) / positives.length;
}

function randomProblem(seed: number, n: number): { y: number[]; p: number[] } {
  const random = createRandom(seed);
  const y = Array.from({ length: n }, () => (random() < 0.45 ? 1 : 0));
  // Rounded scores create ties on purpose.
  const p = y.map((label) => Math.round((0.3 * label + 0.7 * random()) * 20) / 20);
  return { y, p };
}

describe('classification metrics', () => {
  it('ROC-AUC equals the pairwise definition, ties counted half', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { y, p } = randomProblem(seed, 80);
      expect(rocAuc(y, p)).toBeCloseTo(rocAucByPairs(y, p), 12);
    }
  });

  it('average precision equals the mean precision at each positive', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { y, p } = randomProblem(seed, 60);
      expect(averagePrecision(y, p)).toBeCloseTo(averagePrecisionByDefinition(y, p), 12);
    }
  });

  it('perfect and inverted rankings reach the bounds', () => {
    const y = [0, 0, 1, 1];
    expect(rocAuc(y, [0.1, 0.2, 0.8, 0.9])).toBe(1);
    expect(rocAuc(y, [0.9, 0.8, 0.2, 0.1])).toBe(0);
    expect(averagePrecision(y, [0.1, 0.2, 0.8, 0.9])).toBe(1);
  });

  it('ROC curve starts at (0,0) and ends at (1,1), monotone', () => {
    const { y, p } = randomProblem(3, 50);
    const curve = rocCurve(y, p);
    expect(curve[0]).toMatchObject({ x: 0, y: 0 });
    expect(curve.at(-1)).toMatchObject({ x: 1, y: 1 });
    for (let i = 1; i < curve.length; i++) {
      expect(curve[i]!.x).toBeGreaterThanOrEqual(curve[i - 1]!.x);
      expect(curve[i]!.y).toBeGreaterThanOrEqual(curve[i - 1]!.y);
    }
  });

  it('threshold metrics follow the confusion matrix', () => {
    const y = [1, 1, 1, 0, 0, 0, 0, 1];
    const p = [0.9, 0.6, 0.4, 0.55, 0.1, 0.2, 0.3, 0.5];
    const m = classificationMetrics(y, p, 0.5);
    expect(m.confusion).toEqual({ tp: 3, fn: 1, fp: 1, tn: 3 });
    expect(m.precision).toBeCloseTo(3 / 4);
    expect(m.recall).toBeCloseTo(3 / 4);
    expect(m.accuracy).toBeCloseTo(6 / 8);
    expect(m.f1).toBeCloseTo(3 / 4);
  });

  it('Brier score and log loss match their formulas', () => {
    const y = [1, 0, 1];
    const p = [0.8, 0.3, 0.6];
    expect(brierScore(y, p)).toBeCloseTo((0.04 + 0.09 + 0.16) / 3, 12);
    expect(logLoss(y, p)).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7) + Math.log(0.6)) / 3, 12);
  });

  it('calibration bins average what falls in them', () => {
    const bins = calibrationBins([0, 1, 1, 0], [0.05, 0.08, 0.95, 0.91], 10);
    expect(bins).toEqual([
      { meanPredicted: expect.closeTo(0.065, 12), observedRate: 0.5, count: 2 },
      { meanPredicted: expect.closeTo(0.93, 12), observedRate: 0.5, count: 2 },
    ]);
  });
});
