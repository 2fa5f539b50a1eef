import type { LogisticRegressionModel } from './models/logistic-regression.js';
import type { TrainedModel } from './models/model.js';
import { transform } from './models/preprocessing.js';

/**
 * Exact additive explanation of a logistic regression, stored in model.json for the API:
 *   logit = baselineLogit + Σ_features contribution(feature)
 *   contribution(feature) = Σ over its design columns k of weight_k · (x_k − trainingMean_k)
 * so a contribution is the feature's push away from the average training patient, in log-odds.
 */
export interface LinearExplainer {
  kind: 'linear';
  intercept: number;
  baselineLogit: number;
  imputeValues: Record<string, number>;
  terms: (
    | { feature: string; kind: 'numeric'; mean: number; std: number; weight: number; trainingMean: number }
    | { feature: string; kind: 'one-hot'; code: number; weight: number; trainingMean: number }
  )[];
}

export function linearExplainer(model: TrainedModel, trainingRows: readonly number[][], featureNames: readonly string[]): LinearExplainer {
  const estimator = model.estimator as LogisticRegressionModel;
  const x = transform(model.preprocessing, trainingRows);
  const columnMeans = model.preprocessing.columns.map((_, k) => x.reduce((sum, row) => sum + row[k]!, 0) / x.length);
  const terms = model.preprocessing.columns.map((column, k) =>
    column.kind === 'numeric'
      ? {
          feature: column.feature,
          kind: 'numeric' as const,
          mean: column.mean,
          std: column.std,
          weight: estimator.weights[k]!,
          trainingMean: columnMeans[k]!,
        }
      : {
          feature: column.feature,
          kind: 'one-hot' as const,
          code: column.code,
          weight: estimator.weights[k]!,
          trainingMean: columnMeans[k]!,
        },
  );
  return {
    kind: 'linear',
    intercept: estimator.intercept,
    baselineLogit: estimator.intercept + terms.reduce((sum, t) => sum + t.weight * t.trainingMean, 0),
    imputeValues: Object.fromEntries(featureNames.map((name, j) => [name, model.preprocessing.imputeValues[j]!])),
    terms,
  };
}
