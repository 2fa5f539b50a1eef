import type { LinearExplainer } from '../../contract/model-card.js';
import { FEATURE_NAMES } from '../../features/feature-schema.js';

export interface Contribution {
  feature: string;
  /** The value sent (null when missing, so the model imputed it). */
  value: number | null;
  /** Push on the log-odds of disease relative to the baseline (positive = towards disease). */
  contribution: number;
}

export interface Explanation {
  method: 'linear' | 'occlusion';
  /** Log-odds of disease for this row (linear: exactly baselineLogit + Σ contributions). */
  logit: number;
  /** linear only: log-odds of the average training patient. */
  baselineLogit?: number;
  contributions: Contribution[];
}

const EPS = 1e-7;
export const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};

const byMagnitude = (a: Contribution, b: Contribution) => Math.abs(b.contribution) - Math.abs(a.contribution);

/**
 * Exact contributions of a logistic regression (see src/train/export/linear-explainer.ts):
 *   logit = baselineLogit + Σ contribution(feature), contribution = Σ_k weight_k · (x_k − trainingMean_k)
 * over the feature's design columns (its missing indicator among them), with missing values imputed exactly as the
 * graph does.
 */
export function linearContributions(explainer: LinearExplainer, row: readonly number[]): Explanation {
  const sums = new Map<string, number>(FEATURE_NAMES.map((name) => [name, 0]));
  for (const term of explainer.terms) {
    const j = FEATURE_NAMES.indexOf(term.feature);
    const raw = row[j]!;
    const value = Number.isFinite(raw) ? raw : explainer.imputeValues[term.feature]!;
    const x =
      term.kind === 'missing'
        ? Number.isFinite(raw)
          ? 0
          : 1
        : term.kind === 'numeric'
          ? (value - term.mean) / term.std
          : value === term.code
            ? 1
            : 0;
    sums.set(term.feature, sums.get(term.feature)! + term.weight * (x - term.trainingMean));
  }
  const contributions = FEATURE_NAMES.map((feature, j) => ({
    feature,
    value: Number.isFinite(row[j]!) ? row[j]! : null,
    contribution: sums.get(feature)!,
  }));
  const total = explainer.baselineLogit + contributions.reduce((sum, c) => sum + c.contribution, 0);
  return { method: 'linear', logit: total, baselineLogit: explainer.baselineLogit, contributions: contributions.sort(byMagnitude) };
}

/**
 * Rows for an occlusion explanation: the row itself, then one copy per feature with that feature set missing
 * (NaN, so the graph imputes it). Run them in one batch and pass the probabilities to `occlusionContributions`.
 */
export function occlusionRows(row: readonly number[]): number[][] {
  return [row.slice(), ...FEATURE_NAMES.map((_, j) => row.map((v, k) => (k === j ? Number.NaN : v)))];
}

/** contribution(feature) = logit(p(row)) − logit(p(row with that feature imputed)); 0 for features already missing. */
export function occlusionContributions(row: readonly number[], probabilities: readonly number[]): Explanation {
  const full = logit(probabilities[0]!);
  const contributions = FEATURE_NAMES.map((feature, j) => {
    const present = Number.isFinite(row[j]!);
    return { feature, value: present ? row[j]! : null, contribution: present ? full - logit(probabilities[j + 1]!) : 0 };
  });
  return { method: 'occlusion', logit: full, contributions: contributions.sort(byMagnitude) };
}
