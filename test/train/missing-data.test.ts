import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearContributions } from '../../src/api/model/contributions.js';
import { FEATURES, FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { loadDataset, type Dataset } from '../../src/train/data/load.js';
import { linearExplainer } from '../../src/train/export/linear-explainer.js';
import { exportOnnx } from '../../src/train/export/model-graph.js';
import { PARITY_TOLERANCE, onnxProbabilities } from '../../src/train/export/parity.js';
import { trainCandidate, type ProcedureSettings } from '../../src/train/fit-procedure.js';
import {
  MODEL_NAMES,
  calibratedLinear,
  fitModel,
  predictProbabilities,
  withCalibration,
  type TrainedModel,
} from '../../src/train/models/model.js';
import type { LogisticRegressionModel } from '../../src/train/models/logistic-regression.js';
import { clevelandFile, hungarianFile } from '../support/paths.js';

const SETTINGS: ProcedureSettings = { folds: 5, seed: 42, threshold: 0.5, design: { indicatorMinShare: 0.05 }, calibration: 'platt' };
const logit = (p: number) => Math.log(p / (1 - p));
const SLOPE = FEATURE_NAMES.indexOf('slope');

let pooled: Dataset;
let cleveland: Dataset;
let lr: TrainedModel;
let forest: TrainedModel;

beforeAll(async () => {
  pooled = await loadDataset([clevelandFile, hungarianFile], FEATURES);
  cleveland = await loadDataset([clevelandFile], FEATURES);
  lr = trainCandidate('logistic_regression', FEATURES, pooled.rows, pooled.target, SETTINGS).model;
  forest = trainCandidate('random_forest', FEATURES, pooled.rows, pooled.target, SETTINGS).model;
});

describe('missing-indicator columns', () => {
  it('go to features missing in at least the given share of the training rows', () => {
    const names = (model: TrainedModel) => model.preprocessing.indicatorIndices.map((j) => FEATURE_NAMES[j]);
    // Pooled: slope 32 %, ca 49 %, thal 45 % missing; chol 3.9 %, fbs 1.3 %, the rest one row or none.
    expect(names(lr)).toEqual(['slope', 'ca', 'thal']);
    const any = fitModel('logistic_regression', FEATURES, pooled.rows, pooled.target, 1, { indicatorMinShare: 0 });
    expect(names(any)).toEqual(['trestbps', 'chol', 'fbs', 'restecg', 'thalach', 'exang', 'slope', 'ca', 'thal']);
    // Cleveland alone: ca 1.3 %, thal 0.7 %: below 5 %, so no indicator.
    expect(names(fitModel('logistic_regression', FEATURES, cleveland.rows, cleveland.target, 1, { indicatorMinShare: 0.05 }))).toEqual([]);
    expect(names(fitModel('logistic_regression', FEATURES, pooled.rows, pooled.target, 1))).toEqual([]);
  });

  it('are computed inside the ONNX graph (IsNaN on the raw input)', () => {
    const graph = onnxProto.onnx.ModelProto.decode(exportOnnx(lr, FEATURES, 'test', 0.5)).graph!;
    const isNaN = graph.node!.find((n) => n.opType === 'IsNaN')!;
    expect(isNaN.input).toEqual(['features']);
    const indices = graph.initializer!.find((t) => t.name === 'indicator_indices')!;
    expect(indices.int64Data!.map(Number)).toEqual([10, 11, 12]);
    expect(graph.input!.map((i) => i.name)).toEqual(['features']);
    expect(graph.output!.map((o) => o.name)).toEqual(['label', 'probabilities']);
  });

  it('matter: a missing slope scores differently from the same row with its imputed value filled in', async () => {
    const missingSlope = pooled.rows.find((r) => Number.isNaN(r[SLOPE]!))!;
    const filled = missingSlope.map((v, j) => (j === SLOPE ? lr.preprocessing.imputeValues[SLOPE]! : v));
    const [pMissing, pFilled] = await onnxProbabilities(exportOnnx(lr, FEATURES, 'test', 0.5), [missingSlope, filled]);
    // Only the indicator column differs, so the logits differ by exactly its (calibrated) coefficient.
    const column = lr.preprocessing.columns.findIndex((c) => c.kind === 'missing' && c.featureIndex === SLOPE);
    const weight = calibratedLinear(lr.estimator as LogisticRegressionModel, lr.calibration).weights[column]!;
    expect(Math.abs(weight)).toBeGreaterThan(0.1);
    expect(logit(pMissing!) - logit(pFilled!)).toBeCloseTo(weight, 3);

    // Without indicators, missing is read as the imputed value: the two rows are the same patient to the model.
    const plain = fitModel('logistic_regression', FEATURES, pooled.rows, pooled.target, 1);
    const [qMissing, qFilled] = await onnxProbabilities(exportOnnx(plain, FEATURES, 'test', 0.5), [missingSlope, filled]);
    expect(qMissing).toBe(qFilled);
  });

  it('keep the linear explanation exact: contributions (indicators included) sum to the logit', () => {
    const explainer = linearExplainer(lr, pooled.rows, FEATURE_NAMES);
    expect(explainer.terms.filter((t) => t.kind === 'missing').map((t) => t.feature)).toEqual(['slope', 'ca', 'thal']);
    const probabilities = predictProbabilities(lr, pooled.rows);
    pooled.rows.forEach((row, i) => {
      const explanation = linearContributions(explainer, row);
      expect(explanation.logit).toBeCloseTo(logit(probabilities[i]!), 9);
    });
  });
});

describe('indicators and calibration in one graph: parity and determinism', () => {
  it.each(MODEL_NAMES)('%s: every Cleveland and Hungarian row within 1e-5 of the TypeScript model, labels equal', async (name) => {
    const model = name === 'logistic_regression' ? lr : forest;
    expect(model.calibration?.method).toBe('platt');
    expect(model.preprocessing.indicatorIndices).toHaveLength(3);
    const expected = predictProbabilities(model, pooled.rows);
    const onnxBytes = exportOnnx(model, FEATURES, 'test', 0.5);
    const session = await ort.InferenceSession.create(onnxBytes);
    const output = await session.run({
      features: new ort.Tensor('float32', Float32Array.from(pooled.rows.flat()), [pooled.rows.length, FEATURES.length]),
    });
    await session.release();
    const probabilities = output.probabilities!.data as Float32Array;
    const positive = expected.map((_, i) => probabilities[2 * i + 1]!);
    const diffs = positive.map((p, i) => Math.abs(p - expected[i]!));
    expect(Math.max(...diffs)).toBeLessThanOrEqual(PARITY_TOLERANCE);
    expected.forEach((_, i) => expect(probabilities[2 * i]! + probabilities[2 * i + 1]!).toBeCloseTo(1, 6));
    expect(Array.from(output.label!.data as BigInt64Array, Number)).toEqual(expected.map((p) => (p >= 0.5 ? 1 : 0)));
  });

  it('the same data and seed give byte-identical graphs; another seed gives another forest', () => {
    const again = (name: (typeof MODEL_NAMES)[number]) =>
      exportOnnx(trainCandidate(name, FEATURES, pooled.rows, pooled.target, SETTINGS).model, FEATURES, 'test', 0.5);
    for (const [name, model] of [
      ['logistic_regression', lr],
      ['random_forest', forest],
    ] as const) {
      expect(Buffer.from(again(name)).equals(Buffer.from(exportOnnx(model, FEATURES, 'test', 0.5)))).toBe(true);
    }
    const otherSeed = withCalibration(
      fitModel('random_forest', FEATURES, pooled.rows, pooled.target, 7, SETTINGS.design),
      forest.calibration,
    );
    expect(Buffer.from(exportOnnx(otherSeed, FEATURES, 'test', 0.5)).equals(Buffer.from(exportOnnx(forest, FEATURES, 'test', 0.5)))).toBe(
      false,
    );
  });
});
