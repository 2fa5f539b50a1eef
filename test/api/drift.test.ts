/**
 * Must show: rows from another hospital (Hungarian data) sent through POST /predict turn /drift/status to `drift`
 * for the shifted features, while the real Cleveland hold-out rows (model.json split.holdoutRows, never trained on)
 * stay `ok`. Rows are sent as they are: a '?' becomes an omitted field; rows the API refuses are counted with their
 * reason and must be exactly those the feature schema's rules refuse. /metrics then carries the drift gauges.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FEATURES, valueProblem } from '../../src/features/feature-schema.js';
import { parseUciText } from '../../src/train/data/uci-file.js';
import { clevelandFile, hungarianFile } from '../support/paths.js';
import { postJson, startApp, type RunningApp } from './support/app.js';
import { readCard } from './support/model.js';

interface FeatureStatus {
  psi: number;
  psiCritical: number | null;
  ks?: number;
  missingShare: number;
  referenceMissingShare: number;
  status: string;
}
interface DriftBody {
  status: string;
  sampleCount: number;
  insufficientData: boolean;
  features: Record<string, FeatureStatus>;
}

function rowsOf(file: string): number[][] {
  return parseUciText(file, readFileSync(file, 'utf8'), FEATURES).rows;
}

/** A data row in API form: a missing value is an omitted field. */
function patientOf(row: readonly number[]): Record<string, number> {
  return Object.fromEntries(FEATURES.flatMap((f, j) => (Number.isNaN(row[j]!) ? [] : [[f.name, row[j]!]])));
}

/** POST every row as a single-patient request; returns the refused ones with the API's message. */
async function send(
  api: RunningApp,
  rows: number[][],
): Promise<{ accepted: number; refused: { index: number; status: number; message: string }[] }> {
  const refused: { index: number; status: number; message: string }[] = [];
  let accepted = 0;
  for (const [index, row] of rows.entries()) {
    const res = await postJson(`${api.url}/predict`, patientOf(row));
    if (res.status === 200) accepted++;
    else refused.push({ index, status: res.status, message: String((res.body as { message?: string }).message) });
  }
  return { accepted, refused };
}

async function driftStatus(api: RunningApp): Promise<DriftBody> {
  const res = await fetch(`${api.url}/drift/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as DriftBody;
}

async function metricsText(api: RunningApp): Promise<string> {
  return (await fetch(`${api.url}/metrics`)).text();
}

function gauge(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  if (!line) throw new Error(`metric ${name}${labels} not found`);
  return Number(line.split(' ')[1]);
}

describe('input drift through the API', () => {
  let api: RunningApp | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('flags the Hungarian hospital as drift, naming the shifted features', async () => {
    api = await startApp();
    const hungarian = rowsOf(hungarianFile);
    const { accepted, refused } = await send(api, hungarian);

    // Refusals must be exactly the rows that break a schema rule, each a 400 naming the field.
    const breaking = hungarian.flatMap((row, index) => {
      const problems = FEATURES.flatMap((f, j) => (!Number.isNaN(row[j]!) && valueProblem(f, row[j]!) !== null ? [f.name] : []));
      return problems.length ? [{ index, problems }] : [];
    });
    console.info(`[drift] Hungarian rows: ${hungarian.length} sent, ${accepted} accepted, ${refused.length} refused`, refused.slice(0, 5));
    expect(refused.map((r) => r.index)).toEqual(breaking.map((b) => b.index));
    for (const [i, r] of refused.entries()) {
      expect(r.status).toBe(400);
      for (const field of breaking[i]!.problems) expect(r.message).toContain(field);
    }

    const drift = await driftStatus(api);
    expect(drift.sampleCount).toBe(accepted);
    expect(drift.insufficientData).toBe(false);
    expect(drift.status).toBe('drift');

    // Features the Hungarian clinic mostly did not record (computed from the data, not assumed): a shift in itself.
    const card = readCard();
    const mostlyMissing = FEATURES.filter((f, j) => {
      const share = hungarian.filter((row) => Number.isNaN(row[j]!)).length / hungarian.length;
      return share > 0.5 && card.reference[f.name]!.missingProportion < 0.05;
    }).map((f) => f.name);
    expect(mostlyMissing.length).toBeGreaterThan(0);
    for (const name of mostlyMissing) {
      expect(drift.features[name]!.status, name).toBe('drift');
      expect(drift.features[name]!.missingShare).toBeGreaterThan(0.5);
    }

    // A fully recorded feature whose distribution moved: Hungarian patients are markedly younger.
    const mean = (rows: number[][], j: number) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length;
    const ageIndex = FEATURES.findIndex((f) => f.name === 'age');
    expect(mean(rowsOf(clevelandFile), ageIndex) - mean(hungarian, ageIndex)).toBeGreaterThan(5);
    expect(drift.features.age!.status).toBe('drift');
    expect(drift.features.age!.ks).toBeGreaterThan(0.2);

    const shifted = Object.entries(drift.features)
      .filter(([, f]) => f.status === 'drift')
      .map(([name]) => name);
    console.info(`[drift] Hungarian: features in drift: ${shifted.join(', ')}`);

    const metrics = await metricsText(api);
    expect(gauge(metrics, 'hd_drift_status')).toBe(2);
    expect(gauge(metrics, 'hd_drift_psi', '{feature="age"}')).toBeCloseTo(drift.features.age!.psi, 6);
    expect(gauge(metrics, 'hd_drift_ks', '{feature="age"}')).toBeCloseTo(drift.features.age!.ks!, 6);
  });

  it('keeps the real Cleveland hold-out ok', async () => {
    api = await startApp();
    const cleveland = rowsOf(clevelandFile);
    const holdout = readCard().split.holdoutRows.map((i) => cleveland[i]!);
    expect(holdout.length).toBeGreaterThanOrEqual(50); // enough rows for a judgement (minSamples)
    const { accepted, refused } = await send(api, holdout);
    expect(refused).toEqual([]);

    const drift = await driftStatus(api);
    expect(drift.sampleCount).toBe(accepted);
    expect(drift.insufficientData).toBe(false);
    for (const [name, f] of Object.entries(drift.features)) expect(f.status, `${name}: psi ${f.psi}`).toBe('ok');
    expect(drift.status).toBe('ok');

    const metrics = await metricsText(api);
    expect(gauge(metrics, 'hd_drift_status')).toBe(0);
    expect(gauge(metrics, 'hd_drift_psi', '{feature="trestbps"}')).toBeCloseTo(drift.features.trestbps!.psi, 6);
  });

  it('documents /drift/status in the OpenAPI document (and keeps the page out of it)', async () => {
    api = await startApp();
    const doc = (await (await fetch(`${api.url}/docs/json`)).json()) as { paths: Record<string, { get?: { tags?: string[] } }> };
    expect(doc.paths['/drift/status']?.get?.tags).toEqual(['monitoring']);
    expect(doc.paths['/']).toBeUndefined();
  });

  it('reports insufficient data (status ok) before the window holds enough rows', async () => {
    api = await startApp();
    await send(api, rowsOf(hungarianFile).slice(0, 10));
    const drift = await driftStatus(api);
    expect(drift).toMatchObject({ status: 'ok', sampleCount: 10, insufficientData: true });
  });
});
