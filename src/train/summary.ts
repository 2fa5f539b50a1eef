import type { ModelEvaluation } from './pipeline.js';

/** Final plain-text table of the CLI: one row per model, the selected one marked. */
export function summaryTable(evaluations: readonly ModelEvaluation[], selected: string): string {
  const header = [
    'model',
    'cv_roc_auc',
    'cv_sd',
    'holdout_roc_auc',
    'pr_auc',
    'accuracy',
    'precision',
    'recall',
    'f1',
    'brier',
    'log_loss',
  ];
  const rows = evaluations.map((e) =>
    [
      `${e.name}${e.name === selected ? ' *' : ''}`,
      e.cv.mean.rocAuc,
      e.cv.std.rocAuc,
      e.holdout.rocAuc,
      e.holdout.prAuc,
      e.holdout.accuracy,
      e.holdout.precision,
      e.holdout.recall,
      e.holdout.f1,
      e.holdout.brier,
      e.holdout.logLoss,
    ].map((v) => (typeof v === 'number' ? v.toFixed(4) : v)),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '(* selected by CV ROC-AUC; hold-out columns are on rows never used for training or selection)',
  ].join('\n');
}
