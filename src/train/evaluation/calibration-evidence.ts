import { applyCalibration, fitCalibration, type CalibrationMethod } from '../models/calibration.js';
import { brierScore, calibrationBins, logLoss, type CalibrationBin } from '../../metrics/classification.js';
import { stratifiedKFold } from './splits.js';

export interface CalibrationOutcome {
  brier: number;
  logLoss: number;
  meanPredicted: number;
  bins: CalibrationBin[];
}

/** How each calibration method does on out-of-fold scores it was not fitted on. */
export interface CalibrationEvidence {
  rows: number;
  folds: number;
  observedRate: number;
  methods: Record<CalibrationMethod, CalibrationOutcome>;
}

export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['none', 'platt', 'isotonic'];

function outcome(y: readonly number[], p: readonly number[]): CalibrationOutcome {
  return {
    brier: brierScore(y, p),
    logLoss: logLoss(y, p),
    meanPredicted: p.reduce((a, b) => a + b, 0) / p.length,
    bins: calibrationBins(y, p),
  };
}

/**
 * Cross-fitted comparison of calibration methods on out-of-fold CV scores: the scores are split into k stratified
 * folds, each method is fitted on k − 1 of them and applied to the remaining one, so every calibrated probability
 * comes from a map that never saw its row. 'none' is the model's own probability (`uncalibrated`).
 */
export function calibrationEvidence(
  scores: readonly number[],
  y: readonly number[],
  uncalibrated: (score: number) => number,
  k: number,
  seed: number,
): CalibrationEvidence {
  const folds = stratifiedKFold(y, k, seed);
  const methods = {} as Record<CalibrationMethod, CalibrationOutcome>;
  for (const method of CALIBRATION_METHODS) {
    const p = new Array<number>(y.length).fill(Number.NaN);
    for (const { train, test } of folds) {
      if (method === 'none') {
        for (const i of test) p[i] = uncalibrated(scores[i]!);
        continue;
      }
      const map = fitCalibration(
        method,
        train.map((i) => scores[i]!),
        train.map((i) => y[i]!),
      );
      for (const i of test) p[i] = applyCalibration(map, scores[i]!);
    }
    methods[method] = outcome(y, p);
  }
  return { rows: y.length, folds: k, observedRate: y.reduce((a, b) => a + b, 0) / y.length, methods };
}
