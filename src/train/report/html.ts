import type { ModelCard } from '../../contract/model-card.js';
import type { ModelEvaluation } from '../pipeline.js';
import { missingDataSection } from './missing-data-section.js';
import { barChart, confusionMatrixChart, escapeXml, unitLineChart } from './svg.js';

const COLORS: Record<string, string> = { logistic_regression: '#2563eb', random_forest: '#d97706' };
/** The y = x reference line of ROC (chance) and calibration (perfect) charts. */
const DIAGONAL = [
  { x: 0, y: 0 },
  { x: 1, y: 1 },
];
const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');

function metricsTable(evaluations: readonly ModelEvaluation[], selected: string): string {
  const metricRows: [string, (e: ModelEvaluation) => string][] = [
    ['CV ROC-AUC (mean ± sd)', (e) => `${f4(e.cv.mean.rocAuc)} ± ${f4(e.cv.std.rocAuc)}`],
    ['CV PR-AUC', (e) => f4(e.cv.mean.prAuc)],
    ['Hold-out ROC-AUC', (e) => f4(e.holdout.rocAuc)],
    ['Hold-out PR-AUC', (e) => f4(e.holdout.prAuc)],
    ['Hold-out accuracy', (e) => f4(e.holdout.accuracy)],
    ['Hold-out precision', (e) => f4(e.holdout.precision)],
    ['Hold-out recall', (e) => f4(e.holdout.recall)],
    ['Hold-out F1', (e) => f4(e.holdout.f1)],
    ['Hold-out Brier score', (e) => f4(e.holdout.brier)],
    ['Hold-out log loss', (e) => f4(e.holdout.logLoss)],
  ];
  const head = evaluations
    .map((e) => `<th scope="col">${escapeXml(e.name)}${e.name === selected ? ' <span class="badge">selected</span>' : ''}</th>`)
    .join('');
  const body = metricRows
    .map(([label, value]) => `<tr><th scope="row">${label}</th>${evaluations.map((e) => `<td>${value(e)}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr><th scope="col">metric</th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** The training report: one self-contained HTML page (inline CSS and SVG, no scripts, no external assets). */
export function renderReport(card: ModelCard, evaluations: readonly ModelEvaluation[]): string {
  const selected = evaluations.find((e) => e.name === card.selectedModel)!;
  const roc = unitLineChart(
    'ROC curve (hold-out)',
    'false positive rate',
    'true positive rate',
    [
      ...evaluations.map((e) => ({
        name: `${e.name} (AUC ${f4(e.holdout.rocAuc)})`,
        color: COLORS[e.name] ?? '#444',
        points: e.curves.roc,
      })),
      {
        name: 'chance',
        color: '#9ca3af',
        dashed: true,
        points: DIAGONAL,
      },
    ],
    'bottom-right',
  );
  const pr = unitLineChart(
    'Precision-recall curve (hold-out)',
    'recall',
    'precision',
    evaluations.map((e) => ({ name: `${e.name} (AP ${f4(e.holdout.prAuc)})`, color: COLORS[e.name] ?? '#444', points: e.curves.pr })),
    'bottom-right',
  );
  const calibration = unitLineChart(
    'Calibration (out-of-fold CV predictions)',
    'mean predicted probability',
    'observed disease rate',
    [
      ...evaluations.map((e) => ({
        name: e.name,
        color: COLORS[e.name] ?? '#444',
        markers: true,
        points: e.curves.calibration.map((b) => ({ x: b.meanPredicted, y: b.observedRate })),
      })),
      {
        name: 'perfect',
        color: '#9ca3af',
        dashed: true,
        points: DIAGONAL,
      },
    ],
    'bottom-right',
  );
  const confusion = confusionMatrixChart(
    `Confusion matrix of ${selected.name} (hold-out, threshold ${card.threshold})`,
    selected.holdout.confusion,
  );
  const importance = evaluations
    .map(
      (e) =>
        `<figure><figcaption>${escapeXml(e.name)} ${e.name === 'logistic_regression' ? '(|coefficient| per feature, standardised)' : '(mean decrease in gini impurity)'}</figcaption>${barChart(
          `Feature importance of ${e.name}`,
          [...e.importance].sort((a, b) => b.importance - a.importance).map((i) => ({ label: i.feature, value: i.importance })),
          COLORS[e.name] ?? '#444',
        )}</figure>`,
    )
    .join('');
  const q = card.data.quality;
  const missing = Object.entries(q.missing)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${escapeXml(name)}: ${n}`)
    .join(', ');
  const gate = card.selection.gatePassed
    ? `<p class="pass">Quality gate passed: CV ROC-AUC ${f4(selected.cv.mean.rocAuc)} ≥ ${card.selection.minAuc}.</p>`
    : `<p class="fail">Quality gate FAILED: best CV ROC-AUC ${f4(selected.cv.mean.rocAuc)} &lt; ${card.selection.minAuc}. No model.onnx was written.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Heart-disease model report ${escapeXml(card.modelVersion)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:24px;color:#111827}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.2rem;margin-top:32px;border-bottom:1px solid #e5e7eb}
.meta{color:#4b5563}.grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}
figure{margin:0;background:#f9fafb;border:1px solid #e5e7eb;border-radius:8px;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
svg{width:100%;height:auto;font-size:11px}svg .grid{stroke:#e5e7eb}svg .axis{font-size:12px;fill:#374151}svg .big{font-size:22px;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e5e7eb;padding:6px 10px;text-align:right}th[scope=row],th:first-child{text-align:left}
.badge{background:#2563eb;color:#fff;border-radius:4px;padding:1px 6px;font-size:12px}.pass{color:#047857;font-weight:600}.fail{color:#b91c1c;font-weight:600}
code{background:#f3f4f6;padding:1px 4px;border-radius:4px}
</style></head><body>
<h1>Heart-disease risk model</h1>
<p class="meta">version <code>${escapeXml(card.modelVersion)}</code> · selected <strong>${escapeXml(card.selectedModel)}</strong> by ${card.split.folds}-fold CV ROC-AUC · created ${escapeXml(card.createdAt)} · commit <code>${escapeXml(card.gitCommit ?? 'unknown')}</code></p>
${gate}
<h2>Metrics</h2>
<p>Cross-validation on ${card.split.trainRows} training rows; hold-out of ${card.split.holdoutRows.length} rows (stratified, seed ${card.split.seed}) never seen in training or selection.</p>
${metricsTable(evaluations, card.selectedModel)}
<h2>Curves</h2>
<div class="grid3"><figure><figcaption>ROC</figcaption>${roc}</figure><figure><figcaption>Precision–recall</figcaption>${pr}</figure><figure><figcaption>Calibration (out-of-fold)</figcaption>${calibration}</figure></div>
<h2>Selected model</h2>
<div class="grid3"><figure><figcaption>Confusion matrix</figcaption>${confusion}</figure>${importance}</div>
${missingDataSection(card, evaluations)}
<h2>Data</h2>
<p>${q.rows} rows: ${q.classBalance.positive} with disease (${(q.classBalance.positiveShare * 100).toFixed(1)} %), ${q.classBalance.negative} without. Missing values: ${missing || 'none'}. Values outside the schema's rules (treated as missing): ${q.outOfRange.count}.</p>
<table><thead><tr><th scope="col">file</th><th scope="col">rows</th><th scope="col">bytes</th><th scope="col">sha256</th></tr></thead><tbody>
${card.data.files.map((f) => `<tr><td>${escapeXml(f.path)}</td><td>${f.rows}</td><td>${f.bytes}</td><td><code>${f.sha256.slice(0, 16)}…</code></td></tr>`).join('')}
</tbody></table>
<h2>Export</h2>
<p><code>model.onnx</code> (${card.onnx.bytes} bytes, sha256 <code>${card.onnx.sha256.slice(0, 16)}…</code>): input <code>features</code> float32 [N, ${card.schema.features.length}], outputs <code>label</code> and <code>probabilities</code>. Largest difference from the TypeScript model over all rows: ${card.onnx.parityMaxAbsDiff.toExponential(2)}.</p>
</body></html>
`;
}
