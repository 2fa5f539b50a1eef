import path from 'node:path';
import type { Feature } from '../features/feature-schema.js';
import type { Dataset } from './data/load.js';
import { calibrationEvidence, type CalibrationEvidence } from './evaluation/calibration-evidence.js';
import { crossValidate, type CrossValidationResult } from './evaluation/cross-validation.js';
import { leaveOneFileOut, type LeaveOneFileOutResult } from './evaluation/leave-one-file-out.js';
import type { ClassificationMetrics } from '../metrics/classification.js';
import { fitPlatt, type PlattCalibration } from './models/calibration.js';
import { childSeed } from './models/random.js';
import {
  MODEL_NAMES,
  fitModel,
  predictProbabilities,
  scoreToProbability,
  withCalibration,
  type DesignSettings,
  type ModelName,
  type TrainedModel,
} from './models/model.js';

/**
 * The fit procedure shared by the training run and its leave-one-file-out evaluation: per model, stratified CV
 * (preprocessing refitted in every fold) → fit on all given rows → calibration map fitted on the out-of-fold scores;
 * then selection by CV ROC-AUC.
 */

/** Calibrations that the ONNX export carries; isotonic is only compared (see calibration-evidence). */
export type ShippedCalibration = 'platt' | 'none';

/** Chosen by the leave-one-file-out evidence in the README (Training → Missing data and calibration). */
export const DEFAULT_MISSING_INDICATOR_MIN_SHARE: number | null = 0.05;
export const DEFAULT_CALIBRATION: ShippedCalibration = 'platt';

export interface ProcedureSettings {
  folds: number;
  seed: number;
  /** Decision threshold of the CV fold metrics (accuracy, precision, …). */
  threshold: number;
  design: DesignSettings;
  calibration: ShippedCalibration;
}

export interface CalibrationRecord {
  method: ShippedCalibration;
  /** What the map reads: the logit (logistic regression) or the vote share (random forest). */
  score: 'logit' | 'vote share';
  /** Platt parameters: P = sigmoid(slope · score + intercept); null when method is 'none'. */
  platt: PlattCalibration | null;
  /** Fitted on the out-of-fold CV scores of this many training rows. */
  fittedOnRows: number;
  evidence: CalibrationEvidence;
}

export interface Candidate {
  name: ModelName;
  cv: CrossValidationResult;
  model: TrainedModel;
  calibration: CalibrationRecord;
}

export function trainCandidate(
  name: ModelName,
  features: readonly Feature[],
  rows: number[][],
  y: number[],
  settings: ProcedureSettings,
  onFold?: (fold: number, metrics: ClassificationMetrics) => void,
): Candidate {
  const cvSeed = childSeed(settings.seed, 7);
  const cv = crossValidate(name, features, rows, y, settings.folds, cvSeed, settings.threshold, onFold, settings.design);
  const fitted = fitModel(name, features, rows, y, childSeed(settings.seed, 11), settings.design);
  const platt = settings.calibration === 'platt' ? fitPlatt(cv.outOfFoldScores, y) : null;
  const evidence = calibrationEvidence(
    cv.outOfFoldScores,
    y,
    (score) => scoreToProbability(fitted, score),
    settings.folds,
    childSeed(settings.seed, 13),
  );
  return {
    name,
    cv,
    model: withCalibration(fitted, platt),
    calibration: {
      method: settings.calibration,
      score: name === 'logistic_regression' ? 'logit' : 'vote share',
      platt,
      fittedOnRows: y.length,
      evidence,
    },
  };
}

export function trainCandidates(
  features: readonly Feature[],
  rows: number[][],
  y: number[],
  settings: ProcedureSettings,
  onModel?: (candidate: Candidate) => void,
): Candidate[] {
  return MODEL_NAMES.map((name) => {
    const candidate = trainCandidate(name, features, rows, y, settings);
    onModel?.(candidate);
    return candidate;
  });
}

/** Highest CV ROC-AUC wins; ties go to the simpler model (MODEL_NAMES order). */
export function selectBest<T extends { cv: { mean: { rocAuc: number } } }>(candidates: readonly T[]): T {
  return candidates.reduce((a, b) => (b.cv.mean.rocAuc > a.cv.mean.rocAuc ? b : a));
}

/** Leave-one-file-out over the dataset's files (one per hospital) with this procedure and selection. */
export function leaveOneFileOutOf(
  dataset: Dataset,
  features: readonly Feature[],
  settings: ProcedureSettings,
  log: (line: string) => void,
): LeaveOneFileOutResult {
  log(`leave-one-file-out over ${dataset.sources.length} files`);
  // loadDataset concatenates the files' rows in source order.
  let start = 0;
  const groups = dataset.sources.map((source) => {
    const range = { start, end: start + source.rows };
    start = range.end;
    return {
      file: path.basename(source.path),
      rows: dataset.rows.slice(range.start, range.end),
      y: dataset.target.slice(range.start, range.end),
    };
  });
  const result = leaveOneFileOut(groups, (rows, y) => {
    const candidates = trainCandidates(features, rows, y, settings);
    return {
      selected: selectBest(candidates).name,
      predict: Object.fromEntries(candidates.map((c) => [c.name, (held: number[][]) => predictProbabilities(c.model, held)])),
    };
  });
  for (const fold of result.folds) {
    const m = fold.models[fold.selectedModel]!;
    log(
      `  held out ${fold.heldOut} (${m.rows} rows, observed ${m.observedRate.toFixed(3)}): ${fold.selectedModel} roc_auc=${m.rocAuc?.toFixed(4) ?? 'n/a'} ` +
        `brier=${m.brier.toFixed(4)} (base rate ${m.baseRateBrier.toFixed(4)}) mean_predicted=${m.meanPredicted.toFixed(3)}`,
    );
  }
  return result;
}
