import type { HeldOutMetrics, LeaveOneFileOutResult } from '../evaluation/leave-one-file-out.js';
import { CALIBRATION_METHODS } from '../evaluation/calibration-evidence.js';
import type { ModelCard } from '../../contract/model-card.js';
import type { ModelEvaluation } from '../pipeline.js';
import { escapeXml, unitLineChart } from './svg.js';

const f3 = (v: number | null) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(3));
const FILE_COLORS = ['#2563eb', '#d97706', '#059669', '#7c3aed'];
const DIAGONAL = [
  { x: 0, y: 0 },
  { x: 1, y: 1 },
];

function indicatorsParagraph(card: ModelCard): string {
  // Training always writes missingData; the contract keeps it optional for cards written before it existed.
  const { indicatorMinShare, indicators } = card.missingData ?? { indicatorMinShare: null, indicators: [] };
  if (indicatorMinShare === null) {
    return '<p>Missing-indicator columns: <strong>off</strong> — a missing value is imputed (training median or most frequent code) and then read like a measured one.</p>';
  }
  const rule = `a feature missing in at least ${(indicatorMinShare * 100).toFixed(0)} % of the training rows gets a 0/1 "not measured" column beside its imputed value (IsNaN inside the ONNX graph)`;
  return `<p>Missing-indicator columns: ${rule}. ${
    indicators.length
      ? `Features with an indicator: <strong>${indicators.map(escapeXml).join(', ')}</strong>.`
      : 'No feature reached that share in this training data, so the model has none.'
  }</p>`;
}

function calibrationTable(evaluations: readonly ModelEvaluation[], selected: string): string {
  const rows = evaluations.flatMap((e) => {
    const ev = e.calibration.evidence;
    return CALIBRATION_METHODS.map(
      (method) =>
        `<tr><th scope="row">${escapeXml(e.name)}${e.name === selected ? ' <span class="badge">selected</span>' : ''}</th><td>${method}${
          method === e.calibration.method ? ' (shipped)' : ''
        }</td><td>${f3(ev.methods[method].brier)}</td><td>${f3(ev.methods[method].logLoss)}</td><td>${f3(ev.methods[method].meanPredicted)} / ${f3(ev.observedRate)}</td></tr>`,
    );
  });
  return `<table><thead><tr><th scope="col">model</th><th scope="col">calibration</th><th scope="col">Brier</th><th scope="col">log loss</th><th scope="col">mean predicted / observed</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function calibrationParagraph(selected: ModelEvaluation): string {
  const c = selected.calibration;
  const evidence = `Evidence: out-of-fold CV scores of the ${c.evidence.rows} training rows, each method fitted on ${c.evidence.folds - 1} of ${c.evidence.folds} folds of them and scored on the remaining one (so no row is scored by a map that saw it).`;
  if (c.method === 'none' || !c.platt)
    return `<p>Calibration: <strong>none</strong> — the model's own probabilities are shipped. ${evidence}</p>`;
  return `<p>Calibration: <strong>Platt scaling</strong> on the ${c.score}, P = sigmoid(${c.platt.slope.toFixed(4)} · ${c.score} ${c.platt.intercept < 0 ? '−' : '+'} ${Math.abs(c.platt.intercept).toFixed(4)}), fitted on the out-of-fold CV scores of ${c.fittedOnRows} training rows and ${
    c.score === 'logit' ? 'folded into the logistic regression coefficients of the graph' : 'applied in the graph after the forest'
  }. ${evidence}</p>`;
}

function subsetsCell(m: HeldOutMetrics): string {
  return m.missingSubsets
    .map((s) => `≥ ${s.minMissing}: ${s.rows ? `${f3(s.meanPredicted)} / ${f3(s.observedRate)} (${s.rows})` : '–'}`)
    .join('<br>');
}

function leaveOneFileOutTable(lofo: LeaveOneFileOutResult): string {
  const rows = lofo.folds.flatMap((fold) =>
    Object.entries(fold.models).map(([name, m]) => {
      const selected = name === fold.selectedModel;
      return `<tr><th scope="row">${escapeXml(fold.heldOut)} (${m.rows})</th><td>${escapeXml(name)}${selected ? ' <span class="badge">selected</span>' : ''}</td><td>${f3(m.rocAuc)}</td><td>${f3(m.brier)} (${f3(m.baseRateBrier)})</td><td>${f3(m.logLoss)}</td><td>${f3(m.meanPredicted)} / ${f3(m.observedRate)}</td><td>${f3(m.calibrationSlope)}</td><td>${subsetsCell(m)}</td></tr>`;
    }),
  );
  const mean = lofo.mean;
  return `<table><thead><tr><th scope="col">held-out file (rows)</th><th scope="col">model</th><th scope="col">ROC-AUC</th><th scope="col">Brier (of the base rate)</th><th scope="col">log loss</th><th scope="col">mean predicted / observed</th><th scope="col">calibration slope</th><th scope="col">rows missing ≥ k features: predicted / observed (n)</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<p>Mean over held-out files (selected model): ROC-AUC ${f3(mean.rocAuc)}, Brier ${f3(mean.brier)} (always answering the training base rate: ${f3(mean.baseRateBrier)}), log loss ${f3(mean.logLoss)}, |mean predicted − observed| ${f3(mean.absCalibrationInTheLarge)}.</p>`;
}

function leaveOneFileOutChart(lofo: LeaveOneFileOutResult): string {
  return unitLineChart(
    'Calibration on each held-out file',
    'mean predicted probability',
    'observed disease rate',
    [
      ...lofo.folds.map((fold, i) => ({
        name: `${fold.heldOut} (${fold.selectedModel})`,
        color: FILE_COLORS[i % FILE_COLORS.length]!,
        markers: true,
        points: fold.models[fold.selectedModel]!.bins.map((b) => ({ x: b.meanPredicted, y: b.observedRate })),
      })),
      { name: 'perfect', color: '#9ca3af', dashed: true, points: DIAGONAL },
    ],
    'bottom-right',
  );
}

function outOfFoldCalibrationChart(selected: ModelEvaluation): string {
  const methods = selected.calibration.evidence.methods;
  return unitLineChart(
    `Out-of-fold calibration of ${selected.name}`,
    'mean predicted probability',
    'observed disease rate',
    [
      { name: 'none', color: '#6b7280', markers: true, points: methods.none.bins.map((b) => ({ x: b.meanPredicted, y: b.observedRate })) },
      {
        name: 'Platt',
        color: '#2563eb',
        markers: true,
        points: methods.platt.bins.map((b) => ({ x: b.meanPredicted, y: b.observedRate })),
      },
      { name: 'perfect', color: '#9ca3af', dashed: true, points: DIAGONAL },
    ],
    'bottom-right',
  );
}

/** One-third-width figures even when there are fewer than three (auto-fill keeps the empty tracks). */
const FIGURE_ROW = '<div class="grid3" style="grid-template-columns:repeat(auto-fill,minmax(320px,1fr))">';

/** "Missing data and calibration": indicators, the calibration method and its evidence, leave-one-file-out. */
export function missingDataSection(card: ModelCard, evaluations: readonly ModelEvaluation[]): string {
  const selected = evaluations.find((e) => e.name === card.selectedModel)!;
  const lofo = card.leaveOneFileOut ?? null;
  const lofoPart = lofo
    ? `<h3>Leave-one-file-out (each hospital held out in turn)</h3>
<p>For every data file, the whole procedure (CV, selection, fit, calibration) ran on the other file(s) and was scored on this one. Calibration fitted at the training hospitals cannot know a new hospital's disease rate: the gap between mean predicted and observed below is that limit, not a defect of the fit.</p>
${leaveOneFileOutTable(lofo)}
${FIGURE_ROW}<figure><figcaption>Calibration per held-out file</figcaption>${leaveOneFileOutChart(lofo)}</figure></div>`
    : '<p>Leave-one-file-out: not run (it needs at least two data files; give one per hospital).</p>';
  return `<h2>Missing data and calibration</h2>
${indicatorsParagraph(card)}
${calibrationParagraph(selected)}
${calibrationTable(evaluations, card.selectedModel)}
${FIGURE_ROW}<figure><figcaption>Out-of-fold calibration (each map scored on rows it did not see)</figcaption>${outOfFoldCalibrationChart(selected)}</figure></div>
${lofoPart}`;
}
