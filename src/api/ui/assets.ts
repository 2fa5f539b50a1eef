/**
 * The page's script and stylesheet, served from /ui/app.js and /ui/app.css (strict CSP: no inline code). Kept as
 * strings in a module so `tsc` ships them in dist/ with no copy step. The script only uses textContent (never
 * innerHTML) for values from the server.
 */

export const APP_JS = String.raw`'use strict';
(function () {
  var form = document.getElementById('predict-form');
  if (!form) return;
  var summary = document.getElementById('form-errors');
  var submit = document.getElementById('submit');
  var placeholder = document.getElementById('result-placeholder');
  var body = document.getElementById('result-body');
  var resultError = document.getElementById('result-error');
  var controls = Array.prototype.slice.call(form.querySelectorAll('[data-feature]'));

  function byFeature(name) {
    for (var i = 0; i < controls.length; i++) if (controls[i].getAttribute('data-feature') === name) return controls[i];
    return null;
  }

  function clearErrors() {
    controls.forEach(function (el) {
      el.removeAttribute('aria-invalid');
      var err = document.getElementById(el.id + '-error');
      if (err) { err.textContent = ''; err.hidden = true; }
    });
    summary.hidden = true;
    summary.textContent = '';
    resultError.hidden = true;
    resultError.textContent = '';
  }

  // Errors next to their fields, plus a summary (role=alert) linking to each field.
  function showErrors(details, fallback) {
    var items = [];
    details.forEach(function (d) {
      var el = byFeature(d.field);
      var text = d.rule + (d.allowed ? ' (allowed: ' + d.allowed + ')' : '');
      if (el) {
        el.setAttribute('aria-invalid', 'true');
        var err = document.getElementById(el.id + '-error');
        err.textContent = text;
        err.hidden = false;
        items.push({ id: el.id, text: el.getAttribute('data-label') + ': ' + text });
      } else {
        items.push({ id: null, text: d.field + ': ' + text });
      }
    });
    if (items.length === 0) items.push({ id: null, text: fallback });
    var heading = document.createElement('p');
    heading.textContent = 'Please correct ' + (items.length === 1 ? 'this field' : 'these ' + items.length + ' fields') + ':';
    var list = document.createElement('ul');
    items.forEach(function (item) {
      var li = document.createElement('li');
      if (item.id) {
        var a = document.createElement('a');
        a.href = '#' + item.id;
        a.textContent = item.text;
        li.appendChild(a);
      } else {
        li.textContent = item.text;
      }
      list.appendChild(li);
    });
    summary.appendChild(heading);
    summary.appendChild(list);
    summary.hidden = false;
    summary.focus();
  }

  function patientFromForm() {
    var patient = {};
    var problems = [];
    controls.forEach(function (el) {
      var name = el.getAttribute('data-feature');
      if (el.validity && el.validity.badInput) {
        problems.push({ field: name, rule: 'must be a number' });
        return;
      }
      var raw = el.value.trim();
      if (raw === '') return; // blank = unknown: omitted, the API validates required fields
      patient[name] = Number(raw);
    });
    return { patient: patient, problems: problems };
  }

  function formatValue(name, value) {
    if (value === null || value === undefined) return 'not given (imputed)';
    var el = byFeature(name);
    if (el && el.tagName === 'SELECT') {
      for (var i = 0; i < el.options.length; i++) if (el.options[i].value === String(value)) return el.options[i].textContent;
    }
    return String(value);
  }

  function showResult(r) {
    placeholder.hidden = true;
    document.getElementById('result-probability').textContent = (r.probability * 100).toFixed(1) + ' %';
    var band = document.getElementById('result-band');
    band.textContent = r.riskBand;
    band.className = 'band band-' + r.riskBand;
    document.getElementById('result-label').textContent = r.label === 1 ? 'disease' : 'no disease';
    document.getElementById('result-version').textContent = r.modelVersion;
    var imputed = r.imputed || [];
    var notMeasured = document.getElementById('result-not-measured');
    document.getElementById('result-imputed').textContent = imputed.map(function (name) {
      var el = byFeature(name);
      return el ? el.getAttribute('data-label') : name;
    }).join(', ');
    notMeasured.hidden = imputed.length === 0;
    document.getElementById('result-mostly-missing').hidden = !r.mostlyMissing;
    var tbody = document.querySelector('#contributions tbody');
    tbody.textContent = '';
    // A feature that was not measured is no evidence: never shown as raising or lowering the risk.
    (r.contributions || []).filter(function (c) { return c.value !== null && imputed.indexOf(c.feature) < 0; }).slice(0, 5).forEach(function (c) {
      var tr = document.createElement('tr');
      var el = byFeature(c.feature);
      var cells = [el ? el.getAttribute('data-label') : c.feature, formatValue(c.feature, c.value), (c.contribution >= 0 ? '+' : '') + c.contribution.toFixed(3) + (c.contribution >= 0 ? ' (raises risk)' : ' (lowers risk)')];
      cells.forEach(function (text, i) {
        var cell = document.createElement(i === 0 ? 'th' : 'td');
        if (i === 0) cell.scope = 'row';
        cell.textContent = text;
        tr.appendChild(cell);
      });
      tbody.appendChild(tr);
    });
    body.hidden = false;
  }

  form.addEventListener('reset', function () {
    clearErrors();
    body.hidden = true;
    placeholder.hidden = false;
  });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    clearErrors();
    var parsed = patientFromForm();
    if (parsed.problems.length) { showErrors(parsed.problems, 'invalid input'); return; }
    var headers = { 'content-type': 'application/json', accept: 'application/json' };
    var key = document.getElementById('api-key').value.trim();
    if (key) headers['x-api-key'] = key;
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    fetch('/predict?explain=true', { method: 'POST', headers: headers, body: JSON.stringify(parsed.patient) })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (data) { return { res: res, data: data }; });
      })
      .then(function (x) {
        if (x.res.ok) { showResult(x.data); return; }
        body.hidden = true;
        placeholder.hidden = false;
        if (x.res.status === 400 && Array.isArray(x.data.details)) { showErrors(x.data.details, x.data.message || 'invalid input'); return; }
        resultError.textContent = (x.res.status === 401 ? 'This server needs an API key (see “API key” above). ' : '') + (x.data.message || 'Request failed with status ' + x.res.status);
        resultError.hidden = false;
      })
      .catch(function (err) {
        resultError.textContent = 'Could not reach the server: ' + err.message;
        resultError.hidden = false;
      })
      .then(function () {
        submit.disabled = false;
        submit.removeAttribute('aria-busy');
      });
  });
})();
`;

export const APP_CSS = String.raw`:root {
  --fg: #1b1f24; --muted: #4a5563; --bg: #f6f7f9; --card: #fff; --line: #c9ced6;
  --accent: #0b5cad; --error: #b3261e; --low: #1e6b34; --moderate: #8a5300; --high: #b3261e;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif;
  color: var(--fg); background: var(--bg); line-height: 1.45;
}
body { margin: 0 auto; max-width: 60rem; padding: 1rem 1.25rem 3rem; }
h1 { margin: 0.5rem 0 0.25rem; font-size: 1.8rem; }
.lead { color: var(--muted); margin: 0 0 0.5rem; }
nav ul { display: flex; flex-wrap: wrap; gap: 0.25rem 1.25rem; list-style: none; padding: 0; margin: 0 0 1rem; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible {
  outline: 3px solid var(--accent); outline-offset: 2px;
}
.skip-link { position: absolute; left: -999px; }
.skip-link:focus { left: 1rem; top: 0.5rem; background: var(--card); padding: 0.25rem 0.5rem; }
fieldset { background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin: 0 0 1rem; padding: 0.75rem 1rem 0.5rem; }
legend { font-weight: 600; padding: 0 0.25rem; }
.legend-note { font-weight: 400; color: var(--muted); font-size: 0.9rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: 0.25rem 1.25rem; }
.field { display: flex; flex-direction: column; margin-bottom: 0.5rem; }
label { font-weight: 600; margin-bottom: 0.2rem; }
.unit, .optional { font-weight: 400; color: var(--muted); }
.optional { font-size: 0.8rem; border: 1px solid var(--line); border-radius: 4px; padding: 0 0.3rem; margin-left: 0.25rem; }
input, select { font: inherit; padding: 0.35rem 0.5rem; border: 1px solid #8a929e; border-radius: 4px; background: #fff; color: var(--fg); }
input[aria-invalid="true"], select[aria-invalid="true"] { border: 2px solid var(--error); }
.hint { color: var(--muted); font-size: 0.85rem; margin: 0.15rem 0 0; }
.field-error { color: var(--error); font-weight: 600; font-size: 0.9rem; margin: 0.2rem 0 0; }
.field-error::before { content: "⚠ "; }
.error-summary { border: 2px solid var(--error); border-radius: 8px; background: #fdf0ef; padding: 0.5rem 1rem; margin-bottom: 1rem; }
.error-summary p { margin: 0.25rem 0; font-weight: 600; }
details.api-key { margin: 0 0 1rem; }
summary { cursor: pointer; color: var(--accent); }
.actions { display: flex; gap: 0.75rem; }
button { font: inherit; font-weight: 600; padding: 0.5rem 1.25rem; border-radius: 6px; border: 2px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button[disabled] { opacity: 0.6; cursor: progress; }
.result { background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin-top: 1.25rem; padding: 0.5rem 1rem 1rem; }
.result h2 { margin: 0.25rem 0 0.5rem; font-size: 1.3rem; }
.result h3 { font-size: 1.05rem; margin: 1rem 0 0.25rem; }
.probability { margin: 0.25rem 0; }
.big { font-size: 2.2rem; font-weight: 700; }
.band { padding: 0.05rem 0.5rem; border-radius: 4px; color: #fff; }
.band-low { background: var(--low); }
.band-moderate { background: var(--moderate); }
.band-high { background: var(--high); }
table { border-collapse: collapse; width: 100%; max-width: 40rem; }
caption { text-align: left; color: var(--muted); font-size: 0.85rem; padding-bottom: 0.25rem; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); }
thead th { font-size: 0.9rem; }
[hidden] { display: none !important; }
`;
