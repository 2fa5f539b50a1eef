import { describe, expect, it } from 'vitest';
import { dot } from '../../src/train/models/linear-algebra.js';
import { fitLogisticRegression, sigmoid } from '../../src/train/models/logistic-regression.js';
import { fitRandomForest, goesLeft, predictRandomForest } from '../../src/train/models/random-forest.js';
import { createRandom } from '../../src/train/models/random.js';
import { stratifiedHoldout, stratifiedKFold } from '../../src/train/evaluation/splits.js';

function syntheticData(seed: number, n: number) {
  const random = createRandom(seed);
  const x = Array.from({ length: n }, () => [random() * 2 - 1, random() * 2 - 1, random() * 2 - 1]);
  const y = x.map((r) => (sigmoid(2 * r[0]! - 1.5 * r[1]! + 0.3) > random() ? 1 : 0));
  return { x, y };
}

describe('logistic regression (Newton, L2)', () => {
  it('converges to the optimum: the penalised gradient vanishes', () => {
    const { x, y } = syntheticData(7, 400);
    const c = 0.5;
    const model = fitLogisticRegression(x, y, { c, maxIterations: 100, tolerance: 1e-10 });
    expect(model.converged).toBe(true);
    expect(model.iterations).toBeLessThan(20);
    // Optimality of C·Σ logloss + ½‖w‖²: C·Xᵀ(p − y) + w = 0 and Σ(p − y) = 0 (unpenalised intercept).
    const residual = x.map((row, i) => sigmoid(dot(row, model.weights) + model.intercept) - y[i]!);
    for (let j = 0; j < 3; j++) {
      const g = c * x.reduce((s, row, i) => s + row[j]! * residual[i]!, 0) + model.weights[j]!;
      expect(Math.abs(g)).toBeLessThan(1e-7);
    }
    expect(Math.abs(residual.reduce((a, b) => a + b, 0))).toBeLessThan(1e-7);
    // And it recovers the sign pattern of the generating weights.
    expect(model.weights[0]).toBeGreaterThan(0);
    expect(model.weights[1]).toBeLessThan(0);
  });

  it('stronger regularisation shrinks the weights', () => {
    const { x, y } = syntheticData(8, 300);
    const loose = fitLogisticRegression(x, y, { c: 10, maxIterations: 100, tolerance: 1e-10 });
    const tight = fitLogisticRegression(x, y, { c: 0.01, maxIterations: 100, tolerance: 1e-10 });
    expect(Math.hypot(...tight.weights)).toBeLessThan(Math.hypot(...loose.weights));
  });
});

describe('random forest (CART, gini, bootstrap)', () => {
  const params = { trees: 25, maxDepth: null, minSamplesSplit: 2, minSamplesLeaf: 1, maxFeatures: 'sqrt' as const, bootstrap: true };

  it('is deterministic for a seed and differs across seeds', () => {
    const { x, y } = syntheticData(9, 200);
    const a = fitRandomForest(x, y, 1, params);
    const b = fitRandomForest(x, y, 1, params);
    const c = fitRandomForest(x, y, 2, params);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it('separates an easy problem and gives probabilities in [0, 1]', () => {
    const x = Array.from({ length: 100 }, (_, i) => [i / 100, (i * 37) % 11]);
    const y = x.map((r) => (r[0]! > 0.5 ? 1 : 0));
    const model = fitRandomForest(x, y, 3, params);
    const p = predictRandomForest(model, x);
    p.forEach((pi, i) => {
      expect(pi).toBeGreaterThanOrEqual(0);
      expect(pi).toBeLessThanOrEqual(1);
      expect(pi >= 0.5 ? 1 : 0).toBe(y[i]);
    });
    expect(model.importances[0]).toBeGreaterThan(model.importances[1]!);
  });

  it('routes at float32 precision, as ONNX does', () => {
    const threshold = Math.fround(0.9);
    expect(goesLeft(0.9, threshold)).toBe(true); // 0.9 > fround(0.9) in float64, equal in float32
    expect(goesLeft(0.91, threshold)).toBe(false);
  });
});

describe('stratified splits', () => {
  const y = Array.from({ length: 103 }, (_, i) => (i % 7 < 3 ? 1 : 0));

  it('k folds partition the rows and keep the class balance within one row', () => {
    const folds = stratifiedKFold(y, 5, 42);
    const seen = folds.flatMap((f) => f.test).sort((a, b) => a - b);
    expect(seen).toEqual(y.map((_, i) => i));
    const positives = folds.map((f) => f.test.filter((i) => y[i] === 1).length);
    expect(Math.max(...positives) - Math.min(...positives)).toBeLessThanOrEqual(1);
    for (const f of folds) expect(f.train.filter((i) => f.test.includes(i))).toEqual([]);
  });

  it('hold-out is disjoint, stratified and reproducible', () => {
    const a = stratifiedHoldout(y, 0.2, 42);
    expect(a).toEqual(stratifiedHoldout(y, 0.2, 42));
    expect(a.test.filter((i) => a.train.includes(i))).toEqual([]);
    expect(a.train.length + a.test.length).toBe(y.length);
    const share = (idx: number[]) => idx.filter((i) => y[i] === 1).length / idx.length;
    expect(Math.abs(share(a.test) - share(a.train))).toBeLessThan(0.05);
    expect(stratifiedHoldout(y, 0.2, 43).test).not.toEqual(a.test);
  });
});
