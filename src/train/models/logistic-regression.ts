import { dot, solveSpd } from './linear-algebra.js';

export interface LogisticRegressionParams {
  /** Inverse L2 strength, as scikit-learn's C: minimise C·Σ logloss + ½‖w‖² (intercept not penalised). */
  c: number;
  maxIterations: number;
  tolerance: number;
}

export const DEFAULT_LR_PARAMS: LogisticRegressionParams = { c: 1, maxIterations: 100, tolerance: 1e-10 };

export interface LogisticRegressionModel {
  kind: 'logistic_regression';
  weights: number[];
  intercept: number;
  iterations: number;
  converged: boolean;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function objective(x: readonly number[][], y: readonly number[], w: readonly number[], b: number, c: number): number {
  let loss = 0;
  for (let i = 0; i < x.length; i++) {
    const z = dot(x[i]!, w) + b;
    // log(1 + e^z) - y z, computed stably
    loss += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y[i]! * z;
  }
  return c * loss + 0.5 * dot(w, w);
}

/**
 * L2-regularised logistic regression by Newton's method with step halving: the objective is strictly convex,
 * so this converges to the unique optimum in a handful of iterations on data of this size.
 */
export function fitLogisticRegression(
  x: readonly number[][],
  y: readonly number[],
  params: LogisticRegressionParams = DEFAULT_LR_PARAMS,
): LogisticRegressionModel {
  const p = x[0]?.length ?? 0;
  let w = new Array<number>(p).fill(0);
  let b = 0;
  let current = objective(x, y, w, b, params.c);
  for (let iteration = 1; iteration <= params.maxIterations; iteration++) {
    // Parameters θ = [w..., b]; gradient and Hessian of the objective.
    const grad = new Array<number>(p + 1).fill(0);
    const hess: number[][] = Array.from({ length: p + 1 }, () => new Array<number>(p + 1).fill(0));
    for (let i = 0; i < x.length; i++) {
      const row = x[i]!;
      const prob = sigmoid(dot(row, w) + b);
      const r = params.c * (prob - y[i]!);
      const s = params.c * prob * (1 - prob);
      for (let j = 0; j < p; j++) {
        grad[j]! += r * row[j]!;
        for (let k = 0; k <= j; k++) hess[j]![k]! += s * row[j]! * row[k]!;
        hess[p]![j]! += s * row[j]!;
      }
      grad[p]! += r;
      hess[p]![p]! += s;
    }
    for (let j = 0; j < p; j++) {
      grad[j]! += w[j]!;
      hess[j]![j]! += 1;
    }
    for (let j = 0; j <= p; j++) for (let k = j + 1; k <= p; k++) hess[j]![k] = hess[k]![j]!;
    const step = solveSpd(hess, grad);
    let t = 1;
    let nextW = w;
    let nextB = b;
    let next = current;
    for (let halving = 0; halving < 30; halving++) {
      nextW = w.map((wj, j) => wj - t * step[j]!);
      nextB = b - t * step[p]!;
      next = objective(x, y, nextW, nextB, params.c);
      if (next <= current) break;
      t /= 2;
    }
    const change = Math.max(...step.map((s) => Math.abs(s * t)));
    w = nextW;
    b = nextB;
    current = next;
    if (change < params.tolerance || Math.max(...grad.map(Math.abs)) < params.tolerance) {
      return { kind: 'logistic_regression', weights: w, intercept: b, iterations: iteration, converged: true };
    }
  }
  return { kind: 'logistic_regression', weights: w, intercept: b, iterations: params.maxIterations, converged: false };
}
