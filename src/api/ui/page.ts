import { MOSTLY_MISSING_MIN_IMPUTED } from '../../contract/artifact-contract.js';
import { FEATURES, type Feature } from '../../features/feature-schema.js';
import { RISK_BANDS_TEXT, riskBands } from '../model/risk.js';

/**
 * The prediction page, rendered on the server from the feature schema (so the form works as markup before any
 * script runs). No inline script or style: the strict CSP allows only /ui/app.js and /ui/app.css from this origin.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function rangeText(feature: Feature): string {
  if (feature.type !== 'numeric') return '';
  return `${feature.min}–${feature.max} ${feature.unit}${feature.integer ? ', whole number' : ''}`;
}

function fieldMarkup(feature: Feature): string {
  const id = `f-${feature.name}`;
  const name = escapeHtml(feature.name);
  const label = escapeHtml(feature.label);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const required = feature.required ? ' required aria-required="true"' : '';
  // A hint that only repeats the label ("Sex." under "Sex") is noise for screen-reader users: leave it out.
  const hasHint = feature.type === 'numeric' || feature.description.toLowerCase() !== feature.label.toLowerCase();
  const describedBy = hasHint ? `${hintId} ${errorId}` : errorId;
  const common = `id="${id}" name="${name}" data-feature="${name}" data-label="${label}" aria-describedby="${describedBy}"${required}`;
  let control: string;
  let hint: string;
  if (feature.type === 'numeric') {
    const step = feature.integer ? '1' : 'any';
    control = `<input ${common} type="number" inputmode="decimal" min="${feature.min}" max="${feature.max}" step="${step}" autocomplete="off">`;
    hint = `${escapeHtml(feature.description)}. ${escapeHtml(rangeText(feature))}.`;
  } else {
    const empty = feature.required ? 'Choose…' : 'Not known';
    const options = feature.codes.map((c) => `<option value="${c.code}">${escapeHtml(c.label)} (${c.code})</option>`).join('');
    control = `<select ${common}><option value="">${empty}</option>${options}</select>`;
    hint = `${escapeHtml(feature.description)}.`;
  }
  const unit = feature.type === 'numeric' ? ` <span class="unit">(${escapeHtml(feature.unit)})</span>` : '';
  const optional = feature.required ? '' : ' <span class="optional">optional</span>';
  return [
    `<div class="field">`,
    `<label for="${id}">${label}${unit}${optional}</label>`,
    control,
    hasHint ? `<p id="${hintId}" class="hint">${hint}</p>` : '',
    `<p id="${errorId}" class="field-error" hidden></p>`,
    `</div>`,
  ].join('');
}

function bandsText(threshold: number | null): string {
  if (threshold === null) return RISK_BANDS_TEXT;
  return riskBands(threshold)
    .map((b) => `${b.band}: ${Math.round(b.from * 100)}–${Math.round(b.to * 100)} %`)
    .join(', ');
}

export interface PageOptions {
  features: readonly Feature[];
  modelVersion: string | null;
  /** The served model's decision threshold (null while no model is loaded). */
  threshold: number | null;
}

export function renderPage({ features, modelVersion, threshold }: PageOptions): string {
  const required = features.filter((f) => f.required);
  const optional = features.filter((f) => !f.required);
  const version = modelVersion ? `Model <code>${escapeHtml(modelVersion)}</code>. ` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Heart disease risk</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<a class="skip-link" href="#predict-form">Skip to the form</a>
<header>
<h1>Heart disease risk</h1>
<p class="lead">${version}Estimates the probability of angiographic heart disease from 13 clinical measurements (UCI Cleveland data). Decision support for clinicians, not a diagnosis.</p>
<nav aria-label="Service">
<ul>
<li><a href="/docs">API documentation</a></li>
<li><a href="/metrics">Metrics</a></li>
<li><a href="/drift/status">Drift status</a></li>
<li><a href="/model">Model card</a></li>
</ul>
</nav>
</header>
<main>
<noscript><p class="error-summary">This page needs JavaScript to send the form and show the result. Without it, use the API directly: see the <a href="/docs">API documentation</a>.</p></noscript>
<form id="predict-form" action="/predict" method="post" novalidate>
<div id="form-errors" class="error-summary" role="alert" tabindex="-1" hidden></div>
<fieldset>
<legend>Patient</legend>
<div class="grid">${required.map(fieldMarkup).join('\n')}</div>
</fieldset>
<fieldset>
<legend>Examination results <span class="legend-note">(leave blank when unknown; the model imputes them)</span></legend>
<div class="grid">${optional.map(fieldMarkup).join('\n')}</div>
</fieldset>
<details class="api-key">
<summary>API key (only if this server requires one)</summary>
<div class="field">
<label for="api-key">API key</label>
<input id="api-key" name="api-key" type="password" autocomplete="off" aria-describedby="api-key-hint">
<p id="api-key-hint" class="hint">Sent as the x-api-key header; kept in this page only.</p>
</div>
</details>
<div class="actions">
<button type="submit" id="submit">Estimate risk</button>
<button type="reset" class="secondary">Clear</button>
</div>
</form>
<section id="result" class="result" aria-live="polite" aria-labelledby="result-heading">
<h2 id="result-heading">Result</h2>
<p id="result-placeholder" class="hint">Fill in the form and choose “Estimate risk”. Risk bands: ${escapeHtml(bandsText(threshold))}.</p>
<div id="result-body" hidden>
<p class="probability"><span id="result-probability" class="big"></span> probability of heart disease</p>
<p>Risk band: <strong id="result-band" class="band"></strong> · Predicted: <span id="result-label"></span> · Model <code id="result-version"></code></p>
<p id="result-mostly-missing" class="field-error" hidden>Most of the examination was not measured (${MOSTLY_MISSING_MIN_IMPUTED} or more of ${FEATURES.length} features): this estimate rests mostly on filled-in values and is unreliable.</p>
<p id="result-not-measured" hidden>Not measured: <span id="result-imputed"></span>. The model filled these in; they are not evidence for or against disease and are left out of the table below.</p>
<h3>What drove this estimate</h3>
<table id="contributions">
<caption>Largest contributions of the measured features to the log-odds of disease (positive raises the risk, negative lowers it)</caption>
<thead><tr><th scope="col">Feature</th><th scope="col">Value</th><th scope="col">Contribution</th></tr></thead>
<tbody></tbody>
</table>
</div>
<p id="result-error" class="field-error" hidden></p>
</section>
</main>
</body>
</html>
`;
}
