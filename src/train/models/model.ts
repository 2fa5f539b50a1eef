import type { Feature } from '../../features/feature-schema.js';
import {
  DEFAULT_LR_PARAMS,
  fitLogisticRegression,
  predictLogisticRegression,
  type LogisticRegressionModel,
} from './logistic-regression.js';
import { fitPreprocessing, transform, type Preprocessing } from './preprocessing.js';
import { DEFAULT_RF_PARAMS, fitRandomForest, predictRandomForest, type RandomForestModel } from './random-forest.js';

export const MODEL_NAMES = ['logistic_regression', 'random_forest'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const DEFAULT_HYPER_PARAMETERS: Record<ModelName, Record<string, unknown>> = {
  logistic_regression: { ...DEFAULT_LR_PARAMS },
  random_forest: { ...DEFAULT_RF_PARAMS },
};

/** A model as it is exported: preprocessing fitted on the training rows plus the estimator on the design matrix. */
export interface TrainedModel {
  name: ModelName;
  preprocessing: Preprocessing;
  estimator: LogisticRegressionModel | RandomForestModel;
  hyperParameters: Record<string, unknown>;
}

export function fitModel(
  name: ModelName,
  features: readonly Feature[],
  rows: readonly number[][],
  y: readonly number[],
  seed: number,
): TrainedModel {
  const preprocessing = fitPreprocessing(features, rows, { standardise: name === 'logistic_regression' });
  const x = transform(preprocessing, rows);
  const estimator =
    name === 'logistic_regression' ? fitLogisticRegression(x, y, DEFAULT_LR_PARAMS) : fitRandomForest(x, y, seed, DEFAULT_RF_PARAMS);
  return { name, preprocessing, estimator, hyperParameters: DEFAULT_HYPER_PARAMETERS[name] };
}

/** P(disease) for raw rows (schema order, NaN = missing). */
export function predictProbabilities(model: TrainedModel, rows: readonly number[][]): number[] {
  const x = transform(model.preprocessing, rows);
  return model.estimator.kind === 'logistic_regression'
    ? predictLogisticRegression(model.estimator, x)
    : predictRandomForest(model.estimator, x);
}

/** Importance per raw feature (schema order), summed over its design columns and normalised to 1. */
export function featureImportance(model: TrainedModel, features: readonly Feature[]): { feature: string; importance: number }[] {
  const perColumn = model.estimator.kind === 'logistic_regression' ? model.estimator.weights.map(Math.abs) : model.estimator.importances;
  const totals = features.map(() => 0);
  model.preprocessing.columns.forEach((column, k) => (totals[column.featureIndex]! += perColumn[k]!));
  const sum = totals.reduce((a, b) => a + b, 0) || 1;
  return features.map((f, j) => ({ feature: f.name, importance: totals[j]! / sum }));
}
