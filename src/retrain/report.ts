/**
 * The decision report of a retraining: one self-contained HTML page (inline CSS and SVG, no scripts) with champion and
 * challenger side by side — metrics on both hold-outs, ROC and calibration curves — the rule with its margins, and
 * which clause decided. Pure: text in, text out.
 */
import type { ModelCard } from '../contract/model-card.js';
import type { CalibrationBin, CurvePoint } from '../metrics/classification.js';
import { escapeXml, unitLineChart } from '../train/report/svg.js';
import type { Decision, ModelScores, PromotionRule } from './rule.js';

export interface ScoredModel {
  label: 'champion' | 'challenger';
  card: ModelCard;
  registryVersion: string | null;
  scores: ModelScores;
  curves: { rocOriginal: CurvePoint[]; rocNewRows: CurvePoint[]; calibration: CalibrationBin[] };
}

export interface DecisionReportInput {
  decision: Decision;
  rule: PromotionRule;
  champion: ScoredModel;
  challenger: ScoredModel;
  counts: { originalRows: number; originalHoldout: number; newRows: number; duplicates: number; newTrain: number; newHoldout: number };
  newRowsSource: string;
  modelUri: string;
}

const COLORS = { champion: '#6b7280', challenger: '#2563eb' } as const;
const DIAGONAL = [
  { x: 0, y: 0 },
  { x: 1, y: 1 },
];
const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');

function metricsTable(models: readonly ScoredModel[]): string {
  const rows: [string, (s: ModelScores) => number][] = [
    ['Brier score, new rows (lower is better)', (s) => s.newRows.brier],
    ['ROC-AUC, new rows', (s) => s.newRows.rocAuc],
    ['log loss, new rows', (s) => s.newRows.logLoss],
    ['accuracy, new rows', (s) => s.newRows.accuracy],
    ['ROC-AUC, original hold-out', (s) => s.original.rocAuc],
    ['Brier score, original hold-out', (s) => s.original.brier],
    ['log loss, original hold-out', (s) => s.original.logLoss],
    ['accuracy, original hold-out', (s) => s.original.accuracy],
  ];
  const head = models
    .map(
      (m) =>
        `<th scope="col">${m.label}<br><code>${escapeXml(m.card.modelVersion)}</code>${m.registryVersion ? `<br>registry version ${escapeXml(m.registryVersion)}` : ''}</th>`,
    )
    .join('');
  const body = rows
    .map(([name, value]) => `<tr><th scope="row">${name}</th>${models.map((m) => `<td>${f4(value(m.scores))}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr><th scope="col">metric</th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export function renderDecisionReport(input: DecisionReportInput): string {
  const { decision, rule, champion, challenger, counts } = input;
  const models = [champion, challenger];
  const roc = (title: string, key: 'rocOriginal' | 'rocNewRows', metric: 'original' | 'newRows') =>
    unitLineChart(
      title,
      'false positive rate',
      'true positive rate',
      [
        ...models.map((m) => ({
          name: `${m.label} (AUC ${f4(m.scores[metric].rocAuc)})`,
          color: COLORS[m.label],
          points: m.curves[key],
        })),
        { name: 'chance', color: '#d1d5db', dashed: true, points: DIAGONAL },
      ],
      'bottom-right',
    );
  const calibration = unitLineChart(
    'Calibration on both hold-outs',
    'mean predicted probability',
    'observed disease rate',
    [
      ...models.map((m) => ({
        name: m.label,
        color: COLORS[m.label],
        markers: true,
        points: m.curves.calibration.map((b) => ({ x: b.meanPredicted, y: b.observedRate })),
      })),
      { name: 'perfect', color: '#d1d5db', dashed: true, points: DIAGONAL },
    ],
    'bottom-right',
  );
  const verdict = decision.promoted
    ? `<p class="pass">Promoted: the challenger${challenger.registryVersion ? ` (version ${escapeXml(challenger.registryVersion)})` : ''} is the new <code>${escapeXml(input.modelUri)}</code>; every clause held.</p>`
    : `<p class="fail">Kept: the champion stays; decided by the clause <strong>${decision.decidedBy}</strong>${challenger.registryVersion ? ` (the challenger is registered as version ${escapeXml(challenger.registryVersion)}, alias <code>challenger</code>)` : ' (the challenger failed the gate and was not registered)'}.</p>`;
  const clauses = decision.clauses
    .map(
      (c) =>
        `<tr class="${c.passed ? 'pass' : 'fail'}"><th scope="row">${c.clause}${c.clause === decision.decidedBy ? ' <span class="badge">decided</span>' : ''}</th><td>${c.passed ? 'holds' : 'fails'}</td><td class="left">${escapeXml(c.detail)}</td></tr>`,
    )
    .join('');
  const championFiles = champion.card.data.files.map((f) => f.sha256);
  const challengerOriginalFiles = challenger.card.data.files.slice(0, -1).map((f) => f.sha256);
  const sameData = challengerOriginalFiles.every((sha) => championFiles.includes(sha));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Retraining decision: ${decision.promoted ? 'promoted' : 'kept'}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:24px;color:#111827}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.2rem;margin-top:32px;border-bottom:1px solid #e5e7eb}
.grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}
figure{margin:0;background:#f9fafb;border:1px solid #e5e7eb;border-radius:8px;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
svg{width:100%;height:auto;font-size:11px}svg .grid{stroke:#e5e7eb}svg .axis{font-size:12px;fill:#374151}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e5e7eb;padding:6px 10px;text-align:right}th[scope=row],th:first-child,.left{text-align:left}
.badge{background:#2563eb;color:#fff;border-radius:4px;padding:1px 6px;font-size:12px}.pass{color:#047857;font-weight:600}.fail{color:#b91c1c;font-weight:600}
tr.pass,tr.fail{font-weight:400}code{background:#f3f4f6;padding:1px 4px;border-radius:4px}
</style></head><body>
<h1>Retraining decision</h1>
${verdict}
<h2>The rule</h2>
<p>Promoted only when every clause holds, checked in this order; the first that fails decides.</p>
<table><thead><tr><th scope="col">clause</th><th scope="col">result</th><th scope="col" class="left">evidence</th></tr></thead><tbody>${clauses}</tbody></table>
<p>Margins: Brier ${rule.brierMargin} (the challenger must be lower by at least this on the new rows), ROC-AUC ${rule.aucMargin} (it may be lower by at most this on the original hold-out); at least ${rule.minNewHoldout} held-out new rows.</p>
<h2>Champion and challenger on the same rows</h2>
<p>Original hold-out: ${counts.originalHoldout} of ${counts.originalRows} original rows, trained on by neither model${sameData ? '' : ' <strong>(the champion was trained on other files than these, so it may have seen some of them)</strong>'}. New rows: ${counts.newRows} labelled rows from ${escapeXml(input.newRowsSource)} after dropping ${counts.duplicates} duplicates; ${counts.newTrain} joined the challenger's training data, ${counts.newHoldout} are held out by content hash. Both models were run by onnxruntime, as the API runs them.</p>
${metricsTable(models)}
<div class="grid3"><figure><figcaption>ROC, new rows</figcaption>${roc('ROC curve on the held-out new rows', 'rocNewRows', 'newRows')}</figure><figure><figcaption>ROC, original hold-out</figcaption>${roc('ROC curve on the original hold-out', 'rocOriginal', 'original')}</figure><figure><figcaption>Calibration</figcaption>${calibration}</figure></div>
<h2>Challenger</h2>
<p>Selected <strong>${escapeXml(challenger.card.selectedModel)}</strong> by CV ROC-AUC on ${challenger.card.split.trainRows} training rows; its training report is <code>challenger/report.html</code> (and in the MLflow run).</p>
</body></html>
`;
}
