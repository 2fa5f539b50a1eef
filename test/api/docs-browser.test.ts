/**
 * The interactive API docs (/docs, @fastify/swagger-ui) in real Chromium: the UI renders the operations generated
 * from the route schemas under the CSP it is served with (no CSP violations), and "Try it out" on POST /predict
 * returns a prediction from the live API. Install: scripts/ci/install-chromium.sh.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app.js';
import { chromiumAvailable, launchChromium } from '../support/chromium.js';

const available = chromiumAvailable();

describe.runIf(available)('Swagger UI at /docs in Chromium', () => {
  let api: RunningApp;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    api = await startApp();
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('renders every tag and the /predict operation without CSP violations', async () => {
    await page.goto(`${api.url}/docs`);
    await page.locator('.opblock-summary-path', { hasText: '/predict' }).first().waitFor({ timeout: 30_000 });
    for (const tag of ['prediction', 'model', 'health', 'monitoring', 'kserve-v2']) {
      await expect(page.locator(`[data-tag="${tag}"]`).count()).resolves.toBeGreaterThan(0);
    }
    expect(
      problems.filter((p) => /Content Security Policy|Refused/i.test(p)),
      problems.join('\n'),
    ).toEqual([]);
  });

  it('"Try it out" on POST /predict answers with a prediction from the live API', async () => {
    const operation = page.locator('#operations-prediction-post_predict');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const body = operation.locator('.live-responses-table .response-col_description pre').first();
    await body.waitFor({ timeout: 30_000 });
    const answer = JSON.parse(await body.innerText()) as { probability: number; riskBand: string; modelVersion: string };
    expect(answer.probability).toBeGreaterThanOrEqual(0);
    expect(['low', 'moderate', 'high']).toContain(answer.riskBand);
    expect(
      problems.filter((p) => /Content Security Policy|Refused/i.test(p)),
      problems.join('\n'),
    ).toEqual([]);
  });
});
