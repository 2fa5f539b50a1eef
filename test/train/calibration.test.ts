import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features/feature-schema.js';
import { loadDataset } from '../../src/train/data/load.js';
import { calibrationEvidence } from '../../src/train/evaluation/calibration-evidence.js';
import { leaveOneFileOut, type FileGroup } from '../../src/train/evaluation/leave-one-file-out.js';
import { brierScore, logLoss } from '../../src/metrics/classification.js';
import { trainCandidate, type ProcedureSettings } from '../../src/train/fit-procedure.js';
import { applyCalibration, fitIsotonic, fitPlatt } from '../../src/train/models/calibration.js';
import { sigmoid } from '../../src/train/models/logistic-regression.js';
import { calibratedLinear, predictProbabilities, predictScores, scoreToProbability } from '../../src/train/models/model.js';
import type { LogisticRegressionModel } from '../../src/train/models/logistic-regression.js';
import { transform } from '../../src/train/models/preprocessing.js';
import { dot } from '../../src/train/models/linear-algebra.js';
import { clevelandFile, hungarianFile } from '../support/paths.js';

const SETTINGS: ProcedureSettings = { folds: 5, seed: 42, threshold: 0.5, design: { indicatorMinShare: 0.05 }, calibration: 'platt' };

let groups: FileGroup[];
beforeAll(async () => {
  groups = [];
  for (const file of [clevelandFile, hungarianFile]) {
    const d = await loadDataset([file], FEATURES);
    groups.push({ file: path.basename(file), rows: d.rows, y: d.target });
  }
});

describe('Platt scaling', () => {
  it('is the maximum-likelihood logistic fit on Platt’s smoothed targets (the gradient vanishes)', () => {
    const [cleveland] = groups as [FileGroup];
    const { cv } = trainCandidate('random_forest', FEATURES, cleveland.rows, cleveland.y, { ...SETTINGS, calibration: 'none' });
    const platt = fitPlatt(cv.outOfFoldScores, cleveland.y);
    const positives = cleveland.y.filter((v) => v === 1).length;
    const targets = cleveland.y.map((v) => (v === 1 ? (positives + 1) / (positives + 2) : 1 / (cleveland.y.length - positives + 2)));
    const residuals = cv.outOfFoldScores.map((s, i) => sigmoid(platt.slope * s + platt.intercept) - targets[i]!);
    // Intercept unpenalised: its gradient is exactly zero; the slope's carries the tiny slope/C of a 1e6 C.
    expect(Math.abs(residuals.reduce((a, r) => a + r, 0))).toBeLessThan(1e-6);
    expect(Math.abs(residuals.reduce((a, r, i) => a + r * cv.outOfFoldScores[i]!, 0))).toBeLessThan(1e-4);
    expect(platt.slope).toBeGreaterThan(0);
  });

  it('folded into the logistic regression coefficients gives the probabilities of applying it after the logit', () => {
    const [cleveland] = groups as [FileGroup];
    const { model } = trainCandidate('logistic_regression', FEATURES, cleveland.rows, cleveland.y, SETTINGS);
    const folded = calibratedLinear(model.estimator as LogisticRegressionModel, model.calibration);
    const x = transform(model.preprocessing, cleveland.rows);
    const viaFold = x.map((row) => sigmoid(dot(row, folded.weights) + folded.intercept));
    const viaMap = predictScores(model, cleveland.rows).map((s) => applyCalibration(model.calibration!, s));
    viaFold.forEach((p, i) => expect(p).toBeCloseTo(viaMap[i]!, 12));
    expect(predictProbabilities(model, cleveland.rows)).toEqual(viaMap);
  });
});

describe('isotonic regression (pool adjacent violators)', () => {
  it('pools the violating neighbours into their mean and stays non-decreasing', () => {
    const fit = fitIsotonic([5, 1, 2, 3, 4, 4], [1, 0, 1, 0, 1, 0]);
    expect(fit.x).toEqual([1, 2, 3, 4, 5]);
    // Scores 2,3,4,4 hold labels 1,0,1,0: one pool of mean 0.5 between 0 (score 1) and 1 (score 5).
    expect(fit.y).toEqual([0, 0.5, 0.5, 0.5, 1]);
    expect(applyCalibration(fit, 0)).toBe(0);
    expect(applyCalibration(fit, 4.5)).toBe(0.75);
    expect(applyCalibration(fit, 9)).toBe(1);
  });
});

describe('calibration evidence from real data', () => {
  it("'none' is the model's own out-of-fold probability, and every method is scored on all rows", () => {
    const [cleveland] = groups as [FileGroup];
    const { cv, model } = trainCandidate('logistic_regression', FEATURES, cleveland.rows, cleveland.y, SETTINGS);
    const evidence = calibrationEvidence(
      cv.outOfFoldScores,
      cleveland.y,
      (s) => scoreToProbability({ ...model, calibration: null }, s),
      5,
      1,
    );
    expect(evidence.methods.none.brier).toBeCloseTo(brierScore(cleveland.y, cv.outOfFold), 12);
    expect(evidence.methods.none.logLoss).toBeCloseTo(logLoss(cleveland.y, cv.outOfFold), 12);
    for (const method of ['platt', 'isotonic'] as const) {
      expect(evidence.methods[method].bins.reduce((n, b) => n + b.count, 0)).toBe(cleveland.y.length);
    }
  });

  it('Platt fitted on out-of-fold scores lowers the log loss and Brier at a hospital the model never saw; isotonic does not', () => {
    // The logistic regression alone (the model selected at both hospitals), to keep this test quick.
    const run = (calibration: 'platt' | 'none' | 'isotonic') =>
      leaveOneFileOut(groups, (rows, y) => {
        const { model, cv } = trainCandidate('logistic_regression', FEATURES, rows, y, {
          ...SETTINGS,
          calibration: calibration === 'platt' ? 'platt' : 'none',
        });
        const isotonic = fitIsotonic(cv.outOfFoldScores, y);
        return {
          selected: 'logistic_regression',
          predict: {
            logistic_regression: (held: number[][]) =>
              calibration === 'isotonic'
                ? predictScores(model, held).map((s) => applyCalibration(isotonic, s))
                : predictProbabilities(model, held),
          },
        };
      }).mean;
    const none = run('none');
    const platt = run('platt');
    expect(platt.logLoss).toBeLessThan(none.logLoss - 0.005);
    expect(platt.brier).toBeLessThan(none.brier);
    // Isotonic's flat ends give some rows probability 0 or 1: confident, and wrong at the other hospital.
    expect(run('isotonic').logLoss).toBeGreaterThan(none.logLoss);
  });
});
