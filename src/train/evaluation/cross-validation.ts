import type { Feature } from '../../features/feature-schema.js';
import { childSeed } from '../models/random.js';
import { fitModel, predictScores, scoreToProbability, type DesignSettings, type ModelName } from '../models/model.js';
import { classificationMetrics, type ClassificationMetrics } from '../../metrics/classification.js';
import { stratifiedKFold } from './splits.js';

export interface CrossValidationResult {
  folds: ClassificationMetrics[];
  /** Out-of-fold P(disease) for every row, from the (uncalibrated) fold model that did not see it. */
  outOfFold: number[];
  /** Out-of-fold scores (logit or vote share) of the same fold models: what a calibration map is fitted on. */
  outOfFoldScores: number[];
  mean: Omit<ClassificationMetrics, 'confusion'>;
  std: Omit<ClassificationMetrics, 'confusion'>;
}

const SCALAR_METRICS = ['rocAuc', 'prAuc', 'accuracy', 'precision', 'recall', 'f1', 'brier', 'logLoss'] as const;

function summarise(folds: readonly ClassificationMetrics[]): Pick<CrossValidationResult, 'mean' | 'std'> {
  const mean = {} as CrossValidationResult['mean'];
  const std = {} as CrossValidationResult['std'];
  for (const key of SCALAR_METRICS) {
    const values = folds.map((f) => f[key]);
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    mean[key] = m;
    std[key] = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length);
  }
  return { mean, std };
}

/** Stratified k-fold CV: preprocessing is refitted inside every fold, so no statistic leaks from the test fold. */
export function crossValidate(
  name: ModelName,
  features: readonly Feature[],
  rows: readonly number[][],
  y: readonly number[],
  k: number,
  seed: number,
  threshold: number,
  onFold?: (fold: number, metrics: ClassificationMetrics) => void,
  design?: DesignSettings,
): CrossValidationResult {
  const outOfFold = new Array<number>(y.length).fill(Number.NaN);
  const outOfFoldScores = new Array<number>(y.length).fill(Number.NaN);
  const folds = stratifiedKFold(y, k, seed).map(({ train, test }, fold) => {
    const model = fitModel(
      name,
      features,
      train.map((i) => rows[i]!),
      train.map((i) => y[i]!),
      childSeed(seed, 1000 + fold),
      design,
    );
    const scores = predictScores(
      model,
      test.map((i) => rows[i]!),
    );
    const p = scores.map((s) => scoreToProbability(model, s));
    test.forEach((row, i) => {
      outOfFold[row] = p[i]!;
      outOfFoldScores[row] = scores[i]!;
    });
    const metrics = classificationMetrics(
      test.map((i) => y[i]!),
      p,
      threshold,
    );
    onFold?.(fold, metrics);
    return metrics;
  });
  return { folds, outOfFold, outOfFoldScores, ...summarise(folds) };
}
