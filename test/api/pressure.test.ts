import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';

/** Busy-wait: blocks this process's event loop, as a CPU-bound overload would. */
function blockEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
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
    blockEventLoop(2500);
    // The blocked time shows in the next sample (taken at most one interval later): poll for it.
    let shed = await postJson(`${server.url}/predict`, PATIENT);
    for (let i = 0; i < 30 && shed.status !== 503; i++) {
      await new Promise((r) => setTimeout(r, 100));
      shed = await postJson(`${server.url}/predict`, PATIENT);
    }
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('7');
    expect(shed.body.message).toContain('overloaded');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    // Recovery: the next quiet sampling interval clears the pressure.
    expect(await statusOnceQuiet()).toBe(200);
  });
});
