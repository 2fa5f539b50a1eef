/** Binary classification metrics, shared by training (src/train/evaluation) and live monitoring (src/outcomes): `y` holds 0/1 labels, `p` the predicted P(class 1). Pure functions. */

export interface ConfusionMatrix {
  tn: number;
  fp: number;
  fn: number;
  tp: number;
}

export interface ClassificationMetrics {
  rocAuc: number;
  prAuc: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  brier: number;
  logLoss: number;
  confusion: ConfusionMatrix;
}

/** ROC-AUC as the Mann–Whitney statistic with midranks for ties. */
export function rocAuc(y: readonly number[], p: readonly number[]): number {
  const order = p.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(p.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const midrank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = midrank;
    i = j + 1;
  }
  let positives = 0;
  let rankSum = 0;
  y.forEach((label, i) => {
    if (label === 1) {
      positives++;
      rankSum += ranks[i]!;
    }
  });
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface CurvePoint {
  threshold: number;
  x: number;
  y: number;
}

/** Distinct score thresholds, descending, with cumulative true/false positives at each. */
function thresholdSweep(y: readonly number[], p: readonly number[]): { threshold: number; tp: number; fp: number }[] {
  const order = p.map((v, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
  const out: { threshold: number; tp: number; fp: number }[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (y[i] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || p[next] !== p[i]) out.push({ threshold: p[i]!, tp, fp });
  }
  return out;
}

/** ROC curve: x = false-positive rate, y = true-positive rate, starting at (0, 0). */
export function rocCurve(y: readonly number[], p: readonly number[]): CurvePoint[] {
  const positives = y.filter((v) => v === 1).length;
  const negatives = y.length - positives;
  return [
    { threshold: Number.POSITIVE_INFINITY, x: 0, y: 0 },
    ...thresholdSweep(y, p).map((s) => ({ threshold: s.threshold, x: s.fp / negatives, y: s.tp / positives })),
  ];
}

/** Precision–recall curve: x = recall, y = precision. */
export function precisionRecallCurve(y: readonly number[], p: readonly number[]): CurvePoint[] {
  const positives = y.filter((v) => v === 1).length;
  return thresholdSweep(y, p).map((s) => ({ threshold: s.threshold, x: s.tp / positives, y: s.tp / (s.tp + s.fp) }));
}

/** Average precision (step-wise PR-AUC, as scikit-learn's average_precision_score). */
export function averagePrecision(y: readonly number[], p: readonly number[]): number {
  let previousRecall = 0;
  let area = 0;
  for (const point of precisionRecallCurve(y, p)) {
    area += (point.x - previousRecall) * point.y;
    previousRecall = point.x;
  }
  return area;
}

export function confusionMatrix(y: readonly number[], p: readonly number[], threshold: number): ConfusionMatrix {
  const m: ConfusionMatrix = { tn: 0, fp: 0, fn: 0, tp: 0 };
  y.forEach((label, i) => {
    const predicted = p[i]! >= threshold ? 1 : 0;
    if (label === 1) {
      if (predicted) m.tp++;
      else m.fn++;
    } else if (predicted) m.fp++;
    else m.tn++;
  });
  return m;
}

export function brierScore(y: readonly number[], p: readonly number[]): number {
  return y.reduce((sum, label, i) => sum + (p[i]! - label) ** 2, 0) / y.length;
}

export function logLoss(y: readonly number[], p: readonly number[], eps = 1e-15): number {
  return (
    -y.reduce((sum, label, i) => {
      const q = Math.min(1 - eps, Math.max(eps, p[i]!));
      return sum + (label === 1 ? Math.log(q) : Math.log(1 - q));
    }, 0) / y.length
  );
}

export function classificationMetrics(y: readonly number[], p: readonly number[], threshold: number): ClassificationMetrics {
  const confusion = confusionMatrix(y, p, threshold);
  const precision = confusion.tp + confusion.fp ? confusion.tp / (confusion.tp + confusion.fp) : 0;
  const recall = confusion.tp + confusion.fn ? confusion.tp / (confusion.tp + confusion.fn) : 0;
  return {
    rocAuc: rocAuc(y, p),
    prAuc: averagePrecision(y, p),
    accuracy: (confusion.tp + confusion.tn) / y.length,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    brier: brierScore(y, p),
    logLoss: logLoss(y, p),
    confusion,
  };
}

export interface CalibrationBin {
  meanPredicted: number;
  observedRate: number;
  count: number;
}

/** Reliability diagram bins of equal width over [0, 1]; empty bins are left out. */
export function calibrationBins(y: readonly number[], p: readonly number[], bins = 10): CalibrationBin[] {
  const sums = Array.from({ length: bins }, () => ({ p: 0, y: 0, n: 0 }));
  p.forEach((v, i) => {
    const b = Math.min(bins - 1, Math.floor(v * bins));
    sums[b]!.p += v;
    sums[b]!.y += y[i]!;
    sums[b]!.n++;
  });
  return sums.filter((s) => s.n > 0).map((s) => ({ meanPredicted: s.p / s.n, observedRate: s.y / s.n, count: s.n }));
}

/** Calibration-in-the-large: mean predicted probability against the observed rate (difference = observed − predicted). */
export function calibrationInTheLarge(y: readonly number[], p: readonly number[]) {
  const meanPredicted = p.reduce((sum, v) => sum + v, 0) / p.length;
  const observedRate = y.reduce((sum, v) => sum + v, 0) / y.length;
  return { meanPredicted, observedRate, difference: observedRate - meanPredicted };
}

export interface ReliabilityBin extends CalibrationBin {
  /** The bin's probability range [from, to) (the last bin includes 1). */
  from: number;
  to: number;
}

/** Reliability table: calibrationBins with each bin's range, for tables and dashboards. */
export function reliabilityTable(y: readonly number[], p: readonly number[], bins = 10): ReliabilityBin[] {
  const table: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    let n = 0;
    let sumP = 0;
    let sumY = 0;
    p.forEach((v, i) => {
      if (Math.min(bins - 1, Math.floor(v * bins)) !== b) return;
      n++;
      sumP += v;
      sumY += y[i]!;
    });
    if (n > 0) table.push({ from: b / bins, to: (b + 1) / bins, meanPredicted: sumP / n, observedRate: sumY / n, count: n });
  }
  return table;
}
