/**
 * Live performance of labelled predictions: the same metrics training reports (src/metrics/classification.ts),
 * over a window of outcomes. Pure: the caller reads the window from the store.
 */
import { brierScore, calibrationInTheLarge, logLoss, reliabilityTable, rocAuc, type ReliabilityBin } from '../metrics/classification.js';

export interface WindowPerformance {
  /** Labelled predictions in the window. */
  count: number;
  positives: number;
  /** False below the minimum count: then every metric is null and `note` says why. */
  sufficient: boolean;
  note: string | null;
  rocAuc: number | null;
  brier: number | null;
  logLoss: number | null;
  /** Mean predicted probability and observed rate; difference = observed − predicted. */
  meanPredicted: number | null;
  observedRate: number | null;
  calibrationInTheLarge: number | null;
  reliability: ReliabilityBin[];
}

export const RELIABILITY_BINS = 10;

/** Metrics of one window of (probability, outcome) pairs; none below `minCount`. */
export function windowPerformance(rows: readonly { probability: number; outcome: 0 | 1 }[], minCount: number): WindowPerformance {
  const y = rows.map((r) => r.outcome);
  const p = rows.map((r) => r.probability);
  const positives = y.reduce<number>((sum, v) => sum + v, 0);
  const empty = {
    count: rows.length,
    positives,
    rocAuc: null,
    brier: null,
    logLoss: null,
    meanPredicted: null,
    observedRate: null,
    calibrationInTheLarge: null,
    reliability: [],
  };
  if (rows.length < minCount) {
    return {
      ...empty,
      sufficient: false,
      note: `${rows.length} labelled prediction(s) in this window; at least ${minCount} are needed (PERFORMANCE_MIN_COUNT)`,
    };
  }
  const auc = rocAuc(y, p);
  const calibration = calibrationInTheLarge(y, p);
  return {
    ...empty,
    sufficient: true,
    note: Number.isNaN(auc) ? 'every outcome in this window is the same: ROC-AUC is undefined' : null,
    rocAuc: Number.isNaN(auc) ? null : auc,
    brier: brierScore(y, p),
    logLoss: logLoss(y, p),
    meanPredicted: calibration.meanPredicted,
    observedRate: calibration.observedRate,
    calibrationInTheLarge: calibration.difference,
    reliability: reliabilityTable(y, p, RELIABILITY_BINS),
  };
}
