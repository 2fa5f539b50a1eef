/**
 * The promotion rule, a pure function of the evidence: champion and challenger scored on the same rows.
 *
 *   promoted ⇔ gate ∧ brier ∧ auc ∧ evidence
 *     evidence: at least `minNewHoldout` held-out new rows (too few says nothing)
 *     gate:     the challenger passed training's quality gate (CV ROC-AUC ≥ min AUC)
 *     brier:    Brier(challenger, new hold-out) ≤ Brier(champion, new hold-out) − brierMargin
 *     auc:      AUC(challenger, original hold-out) ≥ AUC(champion, original hold-out) − aucMargin
 *
 * The deciding clause is the first that fails (in that order), or `all` when the challenger is promoted.
 */
import type { ClassificationMetrics } from '../metrics/classification.js';

export interface PromotionRule {
  brierMargin: number;
  aucMargin: number;
  minNewHoldout: number;
}

export interface ModelScores {
  /** On the original data's hold-out (rows neither model trained on). */
  original: ClassificationMetrics;
  /** On the held-out slice of the new labelled rows. */
  newRows: ClassificationMetrics;
}

export interface Evidence {
  gatePassed: boolean;
  cvRocAuc: number;
  minAuc: number;
  newHoldoutRows: number;
  champion: ModelScores;
  challenger: ModelScores;
}

export const CLAUSES = ['evidence', 'gate', 'brier', 'auc'] as const;
export type Clause = (typeof CLAUSES)[number];

export interface ClauseResult {
  clause: Clause;
  passed: boolean;
  /** The comparison in words, with the numbers. */
  detail: string;
}

export interface Decision {
  promoted: boolean;
  /** The first failed clause, or 'all' when every clause held. */
  decidedBy: Clause | 'all';
  clauses: ClauseResult[];
}

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));

export function decide(evidence: Evidence, rule: PromotionRule): Decision {
  const { champion, challenger } = evidence;
  const brierBound = champion.newRows.brier - rule.brierMargin;
  const aucBound = champion.original.rocAuc - rule.aucMargin;
  const clauses: ClauseResult[] = [
    {
      clause: 'evidence',
      passed: evidence.newHoldoutRows >= rule.minNewHoldout,
      detail: `${evidence.newHoldoutRows} held-out new rows (at least ${rule.minNewHoldout} needed)`,
    },
    {
      clause: 'gate',
      passed: evidence.gatePassed,
      detail: `challenger CV ROC-AUC ${f4(evidence.cvRocAuc)} ${evidence.gatePassed ? '≥' : '<'} ${evidence.minAuc}`,
    },
    {
      // NaN (no rows) fails: no evidence of improvement.
      clause: 'brier',
      passed: challenger.newRows.brier <= brierBound,
      detail: `Brier on new rows: challenger ${f4(challenger.newRows.brier)} vs champion ${f4(champion.newRows.brier)} − margin ${rule.brierMargin} = ${f4(brierBound)}`,
    },
    {
      clause: 'auc',
      passed: challenger.original.rocAuc >= aucBound,
      detail: `ROC-AUC on the original hold-out: challenger ${f4(challenger.original.rocAuc)} vs champion ${f4(champion.original.rocAuc)} − margin ${rule.aucMargin} = ${f4(aucBound)}`,
    },
  ];
  const failed = clauses.find((c) => !c.passed);
  return { promoted: failed === undefined, decidedBy: failed?.clause ?? 'all', clauses };
}
