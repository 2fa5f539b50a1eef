/**
 * The prediction page in real Chromium (Debian's /usr/bin/chromium, driven by playwright-core): the form is built
 * from the schema, a Cleveland row typed in gives the same probability as a direct /predict call, an out-of-range
 * value shows the API's error next to the field, the strict CSP lets the page work, and a screenshot is saved.
 * Install: scripts/ci/install-chromium.sh.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features/feature-schema.js';
import { parseUciText } from '../../src/train/data/uci-file.js';
import { clevelandFile, repoRoot } from '../support/paths.js';
import { postJson, startApp, type RunningApp } from './support/app.js';
import { chromiumAvailable, launchChromium } from '../support/chromium.js';

const available = chromiumAvailable();
const screenshots = path.join(repoRoot, 'test-results');

/** A real Cleveland row with an optional value missing (ca = '?'), in API form (missing → omitted). */
function clevelandPatient(): Record<string, number> {
  const parsed = parseUciText(clevelandFile, readFileSync(clevelandFile, 'utf8'), FEATURES);
  const index = parsed.rows.findIndex((row) => row.some((v) => Number.isNaN(v)));
  const row = parsed.rows[index]!;
  return Object.fromEntries(FEATURES.flatMap((f, j) => (Number.isNaN(row[j]!) ? [] : [[f.name, row[j]!]])));
}

async function fill(page: Page, patient: Record<string, number>): Promise<void> {
  for (const feature of FEATURES) {
    const value = patient[feature.name];
    const control = page.locator(`#f-${feature.name}`);
    if (feature.type === 'categorical') await control.selectOption(value === undefined ? '' : String(value));
    else await control.fill(value === undefined ? '' : String(value));
  }
}

describe.runIf(available)('prediction page in Chromium', () => {
  let api: RunningApp;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    api = await startApp();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    // CSP violations and script errors show up here; the page must have none.
    // (Chromium also logs every 4xx fetch as "Failed to load resource"; the 400 and 401 the tests provoke are expected.)
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error' && !/status of 40[01]/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('renders an accessible form generated from the feature schema', async () => {
    await page.goto(`${api.url}/`);
    expect(await page.title()).toBe('Heart disease risk');
    for (const feature of FEATURES) {
      // every control has a <label for>, so its accessible name is the schema label
      const control = page.getByLabel(feature.label, { exact: false }).first();
      expect(await control.getAttribute('name')).toBe(feature.name);
      if (feature.type === 'numeric') {
        expect(await control.getAttribute('min')).toBe(String(feature.min));
        expect(await control.getAttribute('max')).toBe(String(feature.max));
      } else {
        const options = await control.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
        expect(options).toEqual(feature.codes.map((c) => String(c.code)));
      }
      expect(await control.getAttribute('required')).toBe(feature.required ? '' : null);
    }
    expect(await page.locator('fieldset legend').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#result').getAttribute('aria-live')).toBe('polite');
    for (const href of ['/docs', '/metrics', '/drift/status']) expect(await page.locator(`nav a[href="${href}"]`).count()).toBe(1);
  });

  it('shows the same probability as a direct /predict call, with risk band and top contributions', async () => {
    const patient = clevelandPatient();
    const response = await postJson(`${api.url}/predict?explain=true`, patient);
    expect(response.status).toBe(200);
    const direct = {
      body: response.body as {
        probability: number;
        riskBand: string;
        modelVersion: string;
        contributions: { feature: string; value: number | null }[];
      },
    };

    await page.goto(`${api.url}/`);
    await fill(page, patient);
    // keyboard submit: Enter in a field submits the form
    await page.locator('#f-age').press('Enter');
    await page.locator('#result-body').waitFor({ state: 'visible' });

    expect(await page.locator('#result-probability').textContent()).toBe(`${(direct.body.probability * 100).toFixed(1)} %`);
    expect(await page.locator('#result-band').textContent()).toBe(direct.body.riskBand);
    expect(await page.locator('#result-version').textContent()).toBe(direct.body.modelVersion);
    // Features that were not measured are no evidence: listed as "not measured", never in the contributions table.
    const measured = direct.body.contributions.filter((c) => c.value !== null);
    const rows = page.locator('#contributions tbody tr');
    expect(await rows.count()).toBe(Math.min(5, measured.length));
    const topFeature = FEATURES.find((f) => f.name === measured[0]!.feature)!;
    expect(await rows.first().locator('th').textContent()).toBe(topFeature.label);
    const missing = FEATURES.filter((f) => patient[f.name] === undefined);
    expect(missing.length).toBeGreaterThan(0);
    expect(await page.locator('#result-imputed').textContent()).toBe(missing.map((f) => f.label).join(', '));
    for (const feature of missing) expect(await page.locator('#contributions').textContent()).not.toContain(feature.label);
    expect(await page.locator('#result-mostly-missing').isHidden()).toBe(true);
    await page.screenshot({ path: path.join(screenshots, 'page-result.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it('shows unmeasured features as "not measured" and warns when most of the examination is missing', async () => {
    const patient = { age: 61, sex: 1, cp: 4, trestbps: 140 };
    await page.goto(`${api.url}/`);
    await fill(page, patient);
    await page.locator('#f-age').press('Enter');
    await page.locator('#result-body').waitFor({ state: 'visible' });
    expect(await page.locator('#result-mostly-missing').isVisible()).toBe(true);
    expect(await page.locator('#result-mostly-missing').textContent()).toContain('not measured');
    const notMeasured = FEATURES.filter((f) => !(f.name in patient)).map((f) => f.label);
    expect(await page.locator('#result-imputed').textContent()).toBe(notMeasured.join(', '));
    const table = (await page.locator('#contributions tbody').textContent()) ?? '';
    for (const label of notMeasured) expect(table).not.toContain(label);
    expect(await page.locator('#contributions tbody tr').count()).toBeLessThanOrEqual(Object.keys(patient).length);
    await page.screenshot({ path: path.join(screenshots, 'page-mostly-missing.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it('shows the API validation error next to the field that is out of range', async () => {
    await page.goto(`${api.url}/`);
    await fill(page, { ...clevelandPatient(), trestbps: 400 });
    await page.locator('#submit').click();
    const error = page.locator('#f-trestbps-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/250/); // the rule names the allowed maximum
    expect(await page.locator('#f-trestbps').getAttribute('aria-invalid')).toBe('true');
    const summary = page.locator('#form-errors');
    expect(await summary.textContent()).toContain('Resting blood pressure');
    // focus moves to the error summary so screen-reader and keyboard users land on it
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('form-errors');
    expect(await page.locator('#result-body').isVisible()).toBe(false);
    await page.screenshot({ path: path.join(screenshots, 'page-error.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it('asks for the API key when the server requires one, and sends it as x-api-key', async () => {
    const key = 'page-test-key-0123456789';
    const secured = await startApp({ API_KEYS: key });
    try {
      await page.goto(`${secured.url}/`);
      await fill(page, clevelandPatient());
      await page.locator('#submit').click();
      const message = page.locator('#result-error');
      await message.waitFor({ state: 'visible' });
      expect(await message.textContent()).toMatch(/API key/);
      await page.locator('summary').click();
      await page.locator('#api-key').fill(key);
      await page.locator('#submit').click();
      await page.locator('#result-body').waitFor({ state: 'visible' });
      expect(await message.isVisible()).toBe(false);
    } finally {
      await secured.close();
    }
  });
});
