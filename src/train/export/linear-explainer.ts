import type { LinearExplainer } from '../../contract/model-card.js';
import type { LogisticRegressionModel } from '../models/logistic-regression.js';
import { calibratedLinear, type TrainedModel } from '../models/model.js';
import { transform } from '../models/preprocessing.js';

/** The exact linear explainer stored in model.json (its formula is documented with the contract type). */
export function linearExplainer(model: TrainedModel, trainingRows: readonly number[][], featureNames: readonly string[]): LinearExplainer {
  const estimator = calibratedLinear(model.estimator as LogisticRegressionModel, model.calibration);
  const x = transform(model.preprocessing, trainingRows);
  const columnMeans = model.preprocessing.columns.map((_, k) => x.reduce((sum, row) => sum + row[k]!, 0) / x.length);
  const terms = model.preprocessing.columns.map((column, k): LinearExplainer['terms'][number] =>
    column.kind === 'missing'
      ? { feature: column.feature, kind: 'missing', weight: estimator.weights[k]!, trainingMean: columnMeans[k]! }
      : column.kind === 'numeric'
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
