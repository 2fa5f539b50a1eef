import type { Feature } from '../../features/feature-schema.js';
import { applyCalibration, type PlattCalibration } from './calibration.js';
import { dot } from './linear-algebra.js';
import { DEFAULT_LR_PARAMS, fitLogisticRegression, sigmoid, type LogisticRegressionModel } from './logistic-regression.js';
import { fitPreprocessing, transform, type Preprocessing } from './preprocessing.js';
import { DEFAULT_RF_PARAMS, fitRandomForest, predictRandomForest, type RandomForestModel } from './random-forest.js';

export const MODEL_NAMES = ['logistic_regression', 'random_forest'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const DEFAULT_HYPER_PARAMETERS: Record<ModelName, Record<string, unknown>> = {
  logistic_regression: { ...DEFAULT_LR_PARAMS },
  random_forest: { ...DEFAULT_RF_PARAMS },
};

/**
 * A model as it is exported: preprocessing fitted on the training rows, the estimator on the design matrix, and
 * optionally a calibration map from the estimator's score to P(disease) (fitted on out-of-fold scores).
 */
export interface TrainedModel {
  name: ModelName;
  preprocessing: Preprocessing;
  estimator: LogisticRegressionModel | RandomForestModel;
  hyperParameters: Record<string, unknown>;
  /** Platt only: it is exact graph arithmetic (and folds into a logistic regression's coefficients). */
  calibration: PlattCalibration | null;
}

/** How missing values enter the design matrix (see PreprocessingOptions.indicatorMinShare). */
export interface DesignSettings {
  indicatorMinShare: number | null;
}

export const NO_INDICATORS: DesignSettings = { indicatorMinShare: null };

/** Fit preprocessing and estimator; the result is uncalibrated (calibration needs out-of-fold scores: withCalibration). */
export function fitModel(
  name: ModelName,
  features: readonly Feature[],
  rows: readonly number[][],
  y: readonly number[],
  seed: number,
  design: DesignSettings = NO_INDICATORS,
): TrainedModel {
  const preprocessing = fitPreprocessing(features, rows, {
    standardise: name === 'logistic_regression',
    indicatorMinShare: design.indicatorMinShare,
  });
  const x = transform(preprocessing, rows);
  const estimator =
    name === 'logistic_regression' ? fitLogisticRegression(x, y, DEFAULT_LR_PARAMS) : fitRandomForest(x, y, seed, DEFAULT_RF_PARAMS);
  return { name, preprocessing, estimator, hyperParameters: DEFAULT_HYPER_PARAMETERS[name], calibration: null };
}

export function withCalibration(model: TrainedModel, calibration: PlattCalibration | null): TrainedModel {
  return { ...model, calibration };
}

/** The estimator's score before calibration: the logit for logistic regression, the vote share for the forest. */
export function predictScores(model: TrainedModel, rows: readonly number[][]): number[] {
  const x = transform(model.preprocessing, rows);
  const { estimator } = model;
  return estimator.kind === 'logistic_regression'
    ? x.map((row) => dot(row, estimator.weights) + estimator.intercept)
    : predictRandomForest(estimator, x);
}

/**
 * A logistic regression's calibrated logit as one linear function of the design row: Platt on the logit is
 * slope · (w·x + b) + intercept, so weights slope·w and intercept slope·b + intercept give the same probability.
 * This is what the graph's LinearClassifier and the explainer use.
 */
export function calibratedLinear(
  estimator: LogisticRegressionModel,
  calibration: PlattCalibration | null,
): { weights: number[]; intercept: number } {
  if (!calibration) return { weights: estimator.weights, intercept: estimator.intercept };
  return {
    weights: estimator.weights.map((w) => calibration.slope * w),
    intercept: calibration.slope * estimator.intercept + calibration.intercept,
  };
}

/** P(disease) of a score: through the calibration map when there is one, else the estimator's own probability. */
export function scoreToProbability(model: Pick<TrainedModel, 'estimator' | 'calibration'>, score: number): number {
  if (model.calibration) return applyCalibration(model.calibration, score);
  return model.estimator.kind === 'logistic_regression' ? sigmoid(score) : score;
}

/** P(disease) for raw rows (schema order, NaN = missing). */
export function predictProbabilities(model: TrainedModel, rows: readonly number[][]): number[] {
  return predictScores(model, rows).map((score) => scoreToProbability(model, score));
}

/** Importance per raw feature (schema order), summed over its design columns and normalised to 1. */
export function featureImportance(model: TrainedModel, features: readonly Feature[]): { feature: string; importance: number }[] {
  const perColumn = model.estimator.kind === 'logistic_regression' ? model.estimator.weights.map(Math.abs) : model.estimator.importances;
  const totals = features.map(() => 0);
  model.preprocessing.columns.forEach((column, k) => (totals[column.featureIndex]! += perColumn[k]!));
  const sum = totals.reduce((a, b) => a + b, 0) || 1;
  return features.map((f, j) => ({ feature: f.name, importance: totals[j]! / sum }));
}
