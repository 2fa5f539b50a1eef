import { fitLogisticRegression, sigmoid } from './logistic-regression.js';

/**
 * Recalibration of a classifier's score into P(disease), fitted on out-of-fold CV scores (never on the rows the
 * model was fitted on, whose scores are optimistic). The score is the model's own output before calibration:
 * the logit for logistic regression, the forest's vote share for the random forest (as scikit-learn's
 * CalibratedClassifierCV uses decision_function / predict_proba).
 */
export type CalibrationMethod = 'platt' | 'isotonic' | 'none';

/** Platt scaling: P = sigmoid(slope · score + intercept). Monotone, two parameters, exportable as graph arithmetic. */
export interface PlattCalibration {
  method: 'platt';
  slope: number;
  intercept: number;
}

/** Isotonic regression: a non-decreasing map, linear between the fitted points and flat beyond them. */
export interface IsotonicCalibration {
  method: 'isotonic';
  x: number[];
  y: number[];
}

export type FittedCalibration = PlattCalibration | IsotonicCalibration;

/** Practically unpenalised: Platt's smoothed targets already keep the fit finite on separable scores. */
const PLATT_C = 1e6;

/**
 * Platt (1999) with his smoothed targets (N₊+1)/(N₊+2) and 1/(N₋+2), as scikit-learn's sigmoid calibration:
 * a maximum-likelihood logistic fit of the labels on the score.
 */
export function fitPlatt(scores: readonly number[], y: readonly number[]): PlattCalibration {
  const positives = y.reduce((a, b) => a + b, 0);
  const negatives = y.length - positives;
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (negatives + 2);
  const fit = fitLogisticRegression(
    scores.map((s) => [s]),
    y.map((label) => (label === 1 ? hi : lo)),
    { c: PLATT_C, maxIterations: 100, tolerance: 1e-12 },
  );
  return { method: 'platt', slope: fit.weights[0]!, intercept: fit.intercept };
}

/** Pool-adjacent-violators on the distinct scores (ties averaged first), as scikit-learn's IsotonicRegression. */
export function fitIsotonic(scores: readonly number[], y: readonly number[]): IsotonicCalibration {
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
  const blocks: { x: number; sum: number; weight: number }[] = [];
  for (const i of order) {
    const last = blocks[blocks.length - 1];
    if (last && last.x === scores[i]) {
      last.sum += y[i]!;
      last.weight++;
    } else blocks.push({ x: scores[i]!, sum: y[i]!, weight: 1 });
  }
  const xs = blocks.map((b) => b.x);
  // Pools: each has a value (weighted mean) and covers a run of distinct x; merge while a pool is below its predecessor.
  const pools: { sum: number; weight: number; count: number }[] = [];
  for (const b of blocks) {
    pools.push({ sum: b.sum, weight: b.weight, count: 1 });
    while (pools.length > 1) {
      const top = pools[pools.length - 1]!;
      const below = pools[pools.length - 2]!;
      if (below.sum / below.weight <= top.sum / top.weight) break;
      pools.pop();
      below.sum += top.sum;
      below.weight += top.weight;
      below.count += top.count;
    }
  }
  const ys = pools.flatMap((p) => new Array<number>(p.count).fill(p.sum / p.weight));
  return { method: 'isotonic', x: xs, y: ys };
}

function interpolate(cal: IsotonicCalibration, score: number): number {
  const { x, y } = cal;
  if (score <= x[0]!) return y[0]!;
  if (score >= x[x.length - 1]!) return y[y.length - 1]!;
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= score) lo = mid;
    else hi = mid;
  }
  const t = (score - x[lo]!) / (x[hi]! - x[lo]!);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}

export function applyCalibration(cal: FittedCalibration, score: number): number {
  return cal.method === 'platt' ? sigmoid(cal.slope * score + cal.intercept) : interpolate(cal, score);
}

export function fitCalibration(
  method: Exclude<CalibrationMethod, 'none'>,
  scores: readonly number[],
  y: readonly number[],
): FittedCalibration {
  return method === 'platt' ? fitPlatt(scores, y) : fitIsotonic(scores, y);
}
