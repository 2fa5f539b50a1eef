import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';

/**
 * Saturate this process's event loop for `ms`, as a CPU-bound overload would: busy slices of 250 ms with a brief
 * yield between them. under-pressure reports the *mean* delay of its per-interval histogram, so one long block could
 * be averaged away by the quiet ticks recorded before it; with every tick ~250 ms late the mean is reliably high.
 */
async function blockEventLoop(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const sliceEnd = Math.min(end, performance.now() + 250);
    while (performance.now() < sliceEnd) {
      // spin
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** POST /predict until it is shed (503) or 3 s pass: the blocked time shows in the next sample, up to 1 s later. */
async function predictUntilShed(url: string): Promise<Awaited<ReturnType<typeof postJson>>> {
  let response = await postJson(`${url}/predict`, PATIENT);
  for (let i = 0; i < 30 && response.status !== 503; i++) {
    await new Promise((r) => setTimeout(r, 100));
    response = await postJson(`${url}/predict`, PATIENT);
  }
  return response;
}

describe('load shedding (@fastify/under-pressure)', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startApp({ UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '200', UNDER_PRESSURE_RETRY_AFTER_S: '7' });
  });
  afterAll(() => server.close());

  /** POST /predict until it is not shed (or 10 s pass); returns the last status. */
  async function statusOnceQuiet(): Promise<number> {
    const deadline = Date.now() + 10_000;
    let status = (await postJson(`${server.url}/predict`, PATIENT)).status;
    while (status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await postJson(`${server.url}/predict`, PATIENT)).status;
    }
    return status;
  }

  it('answers 503 with Retry-After to predictions while the event loop is saturated, keeps probes and metrics up, then recovers', async () => {
    // Start from a quiet loop (start-up work in this shared test process may itself exceed the low threshold).
    expect(await statusOnceQuiet()).toBe(200);
    // Block across a whole sampling interval (1 s) so the sampled mean delay exceeds the 200 ms threshold.
    await blockEventLoop(2500);
    // The blocked time shows in the next sample (taken at most one interval later): poll for it.
    const shed = await predictUntilShed(server.url);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('7');
    expect(shed.body.message).toContain('overloaded');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    // Recovery: the next quiet sampling interval clears the pressure.
    expect(await statusOnceQuiet()).toBe(200);
  });
});

describe('readiness waits for start-up to settle, then ignores load', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startApp({ UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '200' });
  });
  afterAll(() => server.close());

  async function readyStatus(): Promise<{ status: number; reason?: string }> {
    const res = await fetch(`${server.url}/ready`);
    const body = (await res.json()) as { reason?: string };
    return { status: res.status, reason: body.reason };
  }

  it('is not ready while a start-up stall still reads as overload, and ready before traffic could be shed', async () => {
    // A stall before the first readiness probe, as slow start-up work would cause.
    await blockEventLoop(2500);
    const seen: { status: number; reason?: string }[] = [];
    const deadline = Date.now() + 10_000;
    let last = await readyStatus();
    seen.push(last);
    while (last.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      last = await readyStatus();
      seen.push(last);
    }
    expect(last.status).toBe(200);
    const notReady = seen.filter((s) => s.status === 503);
    expect(notReady.length, JSON.stringify(seen)).toBeGreaterThan(0);
    expect(notReady[0]!.reason).toMatch(/start-up still settling/);
    // Ready means predictions are served, not shed.
    expect((await postJson(`${server.url}/predict`, PATIENT)).status).toBe(200);

    // Later overload sheds predictions but leaves readiness alone (no emptying the Service under load).
    await blockEventLoop(2500);
    const shed = await predictUntilShed(server.url);
    expect(shed.status).toBe(503);
    expect((await readyStatus()).status).toBe(200);
  });
});
