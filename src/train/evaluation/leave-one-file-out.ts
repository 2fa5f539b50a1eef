import { fitLogisticRegression } from '../models/logistic-regression.js';
import { isMissing } from '../models/preprocessing.js';
import { brierScore, calibrationBins, logLoss, rocAuc, type CalibrationBin } from '../../metrics/classification.js';

/**
 * Leave-one-file-out: each data file (one hospital) is held out in turn, the whole fit procedure runs on the other
 * files, and the held-out file is scored. This is the honest estimate of how the model does on a hospital it never
 * saw, which random CV over pooled rows is not (it mixes every hospital into every fold).
 */

export interface FileGroup {
  file: string;
  rows: number[][];
  y: number[];
}

/** What a fit procedure returns: the model it selected and P(disease) of every model it fitted. */
export interface FittedProcedure {
  selected: string;
  predict: Record<string, (rows: number[][]) => number[]>;
}

/** Rows with at least this many missing features are broken out: where imputation is most likely to mislead. */
export const MISSING_SUBSET_THRESHOLDS = [1, 3, 5] as const;

export interface MissingSubset {
  minMissing: number;
  rows: number;
  /** null when no held-out row has that many missing features. */
  meanPredicted: number | null;
  observedRate: number | null;
}

export interface HeldOutMetrics {
  rows: number;
  observedRate: number;
  meanPredicted: number;
  /** Calibration-in-the-large: mean predicted − observed rate (0 is perfect, negative = risk underestimated). */
  calibrationInTheLarge: number;
  /** Slope of a logistic fit of the labels on logit(p): 1 is perfect, < 1 = too extreme, > 1 = too timid. */
  calibrationSlope: number | null;
  /** null when the held-out file holds one class only (as calibrationSlope). */
  rocAuc: number | null;
  brier: number;
  logLoss: number;
  /** Positive share of the training files: the no-skill forecast. */
  trainBaseRate: number;
  /** Brier of always answering trainBaseRate on the held-out rows: a model worse than this is worse than no model. */
  baseRateBrier: number;
  bins: CalibrationBin[];
  missingSubsets: MissingSubset[];
}

export interface LeaveOneFileOutFold {
  heldOut: string;
  trainFiles: string[];
  trainRows: number;
  /** The model the procedure selected (what would have shipped); its metrics are models[selectedModel]. */
  selectedModel: string;
  models: Record<string, HeldOutMetrics>;
}

export interface LeaveOneFileOutResult {
  folds: LeaveOneFileOutFold[];
  /** Unweighted means over the held-out files (each hospital counts once) of the selected model's metrics. */
  mean: { rocAuc: number | null; brier: number; logLoss: number; baseRateBrier: number; absCalibrationInTheLarge: number };
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
/** NaN (undefined for a one-class file) becomes null, which JSON keeps and NaN it would not. */
const finiteOrNull = (value: number): number | null => (Number.isFinite(value) ? value : null);
const EPS = 1e-15;
const logit = (p: number) => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};

export function calibrationSlope(y: readonly number[], p: readonly number[]): number {
  const fit = fitLogisticRegression(
    p.map((v) => [logit(v)]),
    y,
    { c: 1e6, maxIterations: 100, tolerance: 1e-10 },
  );
  return fit.weights[0]!;
}

export function missingSubsets(
  rows: readonly (readonly number[])[],
  y: readonly number[],
  p: readonly number[],
  thresholds: readonly number[] = MISSING_SUBSET_THRESHOLDS,
): MissingSubset[] {
  const missingCounts = rows.map((r) => r.filter(isMissing).length);
  return thresholds.map((minMissing) => {
    const idx = missingCounts.flatMap((m, i) => (m >= minMissing ? [i] : []));
    return {
      minMissing,
      rows: idx.length,
      meanPredicted: idx.length ? mean(idx.map((i) => p[i]!)) : null,
      observedRate: idx.length ? mean(idx.map((i) => y[i]!)) : null,
    };
  });
}

/** Scores of predictions `p` for held-out rows, against a model trained where the disease rate was `trainBaseRate`. */
export function heldOutMetrics(
  rows: readonly (readonly number[])[],
  y: readonly number[],
  p: readonly number[],
  trainBaseRate: number,
): HeldOutMetrics {
  const observedRate = mean(y);
  const meanPredicted = mean(p);
  return {
    rows: y.length,
    observedRate,
    meanPredicted,
    calibrationInTheLarge: meanPredicted - observedRate,
    calibrationSlope: new Set(y).size === 2 ? finiteOrNull(calibrationSlope(y, p)) : null,
    rocAuc: finiteOrNull(rocAuc(y, p)),
    brier: brierScore(y, p),
    logLoss: logLoss(y, p),
    trainBaseRate,
    baseRateBrier: brierScore(
      y,
      y.map(() => trainBaseRate),
    ),
    bins: calibrationBins(y, p),
    missingSubsets: missingSubsets(rows, y, p),
  };
}

/** Needs at least two files; `fit` is the training procedure (pure for a seed, so the result is too). */
export function leaveOneFileOut(
  groups: readonly FileGroup[],
  fit: (rows: number[][], y: number[]) => FittedProcedure,
): LeaveOneFileOutResult {
  if (groups.length < 2) throw new Error(`leave-one-file-out needs at least 2 data files, got ${groups.length}`);
  const folds = groups.map((heldOut, h): LeaveOneFileOutFold => {
    const others = groups.filter((_, g) => g !== h);
    const trainRows = others.flatMap((g) => g.rows);
    const trainY = others.flatMap((g) => g.y);
    const trainBaseRate = mean(trainY);
    const fitted = fit(trainRows, trainY);
    const models = Object.fromEntries(
      Object.entries(fitted.predict).map(([name, predict]) => [
        name,
        heldOutMetrics(heldOut.rows, heldOut.y, predict(heldOut.rows), trainBaseRate),
      ]),
    );
    return {
      heldOut: heldOut.file,
      trainFiles: others.map((g) => g.file),
      trainRows: trainRows.length,
      selectedModel: fitted.selected,
      models,
    };
  });
  const selected = folds.map((f) => f.models[f.selectedModel]!);
  return {
    folds,
    mean: {
      rocAuc: selected.every((m) => m.rocAuc !== null) ? mean(selected.map((m) => m.rocAuc!)) : null,
      brier: mean(selected.map((m) => m.brier)),
      logLoss: mean(selected.map((m) => m.logLoss)),
      baseRateBrier: mean(selected.map((m) => m.baseRateBrier)),
      absCalibrationInTheLarge: mean(selected.map((m) => Math.abs(m.calibrationInTheLarge))),
    },
  };
}
