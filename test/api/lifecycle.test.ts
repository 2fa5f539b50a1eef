/**
 * The real server process (src/api/server.ts) on 127.0.0.1: graceful shutdown under load (SIGTERM), model reload
 * on SIGHUP, and start-up refusal of bad configuration. Bounded: each load phase lasts ~3 s.
 */
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTs } from '../support/run-cli.js';
import { PATIENT } from './support/app.js';
import { copyModelDir, randomForestModelDir, readCard, testModelDir } from './support/model.js';
import { parseSamples, sampleValue } from './support/prometheus-text.js';
import { startServerProcess } from './support/server-process.js';

type Outcome =
  { kind: 'response'; status: number; at: number } | { kind: 'refused'; at: number } | { kind: 'failed'; error: string; at: number };

function errorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? String(error);
}

/** One client looping POST /predict until `until` or until the server refuses connections. */
async function loadWorker(url: string, until: number, outcomes: Outcome[]): Promise<void> {
  const body = JSON.stringify(PATIENT);
  while (performance.now() < until) {
    try {
      const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.arrayBuffer();
      outcomes.push({ kind: 'response', status: res.status, at: performance.now() });
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ECONNREFUSED') {
        outcomes.push({ kind: 'refused', at: performance.now() });
        return;
      }
      outcomes.push({ kind: 'failed', error: code, at: performance.now() });
    }
  }
}

describe('graceful shutdown under load (SIGTERM)', () => {
  it('turns /ready to 503 at once, keeps answering in-flight and arriving requests, then exits 0 within the grace period', async () => {
    const graceMs = 10_000;
    const delayMs = 2000;
    const server = await startServerProcess({
      MODEL_DIR: testModelDir(),
      SHUTDOWN_GRACE_MS: String(graceMs),
      SHUTDOWN_DELAY_MS: String(delayMs),
    });
    const outcomes: Outcome[] = [];
    const start = performance.now();
    const until = start + 4000;
    const workers = Array.from({ length: 16 }, () => loadWorker(server.url, until, outcomes));

    await new Promise((r) => setTimeout(r, 1000));
    const sigtermAt = performance.now();
    server.child.kill('SIGTERM');
    // Readiness flips as soon as the signal is handled, while the server still answers (the delay lets load
    // balancers notice): poll until /ready says 503; a refused connection before that would mean it never did.
    let ready: Response | undefined;
    while (performance.now() - sigtermAt < delayMs) {
      ready = await fetch(`${server.url}/ready`);
      if (ready.status === 503) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(ready?.status).toBe(503);
    expect(((await ready!.json()) as { reason: string }).reason).toBe('shutting down');

    await Promise.all(workers);
    const exit = await server.exited;
    expect(exit.code, server.output().slice(-2000)).toBe(0);
    expect(exit.at - sigtermAt).toBeLessThan(graceMs);

    // "Accepted" = the server read the request (it logs 'incoming request' with its id). Every accepted /predict
    // must have completed with 200, and the client must have received each of those answers.
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; requestId?: string; req?: { url?: string }; res?: { statusCode?: number } });
    const accepted = new Set(lines.filter((l) => l.msg === 'incoming request' && l.req?.url === '/predict').map((l) => l.requestId));
    const completed = lines.filter((l) => l.msg === 'request completed' && accepted.has(l.requestId));
    const responses = outcomes.filter((o) => o.kind === 'response');
    const badStatus = responses.filter((o) => o.status !== 200);
    expect(badStatus, JSON.stringify(badStatus.slice(0, 5))).toEqual([]);
    expect(completed.length).toBe(accepted.size);
    expect(completed.filter((l) => l.res?.statusCode !== 200)).toEqual([]);
    expect(responses.length).toBe(accepted.size);
    // Connection-level errors are only for connections the closing listener never accepted: at most one per client
    // (its next attempt is refused and it stops).
    const connectionErrors = outcomes.filter((o) => o.kind === 'failed');
    for (const error of connectionErrors) expect(error.kind === 'failed' && error.error).toBe('ECONNRESET');
    expect(connectionErrors.length).toBeLessThanOrEqual(16);
    // The load really overlapped the shutdown: answers before SIGTERM and during the drain window.
    expect(responses.filter((o) => o.at < sigtermAt).length).toBeGreaterThan(10);
    expect(responses.filter((o) => o.at > sigtermAt + 100).length).toBeGreaterThan(10);
    expect(server.output()).toContain('shutting down');
  });
});

describe('model reload on SIGHUP (real process)', () => {
  const dir = copyModelDir();
  const rfDir = randomForestModelDir();
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(rfDir, { recursive: true, force: true });
  });

  it('swaps to a good model, refuses a broken one and keeps serving', async () => {
    const server = await startServerProcess({ MODEL_DIR: dir });
    const version = async () => ((await (await fetch(`${server.url}/model`)).json()) as { modelVersion: string }).modelVersion;
    const waitFor = async (what: string, check: () => Promise<boolean>) => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}; output:\n${server.output().slice(-2000)}`);
    };
    try {
      const original = readCard(dir).modelVersion;
      expect(await version()).toBe(original);

      for (const file of ['model.onnx', 'model.json']) copyFileSync(path.join(rfDir, file), path.join(dir, file));
      server.child.kill('SIGHUP');
      await waitFor('the new version', async () => (await version()) === `${original}-rf`);

      writeFileSync(path.join(dir, 'model.onnx'), 'garbage');
      server.child.kill('SIGHUP');
      await waitFor('the refusal to be logged', async () => server.output().includes('reload refused'));
      expect(await version()).toBe(`${original}-rf`);
      const res = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(PATIENT),
      });
      expect(res.status).toBe(200);
      const samples = parseSamples(await (await fetch(`${server.url}/metrics`)).text());
      expect(sampleValue(samples, 'hd_model_reloads_total', { result: 'success' })).toBe(1);
      expect(sampleValue(samples, 'hd_model_reloads_total', { result: 'failure' })).toBe(1);
      expect(server.child.exitCode).toBeNull();
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

describe('start-up configuration', () => {
  it('refuses bad environment variables, naming each one, with exit code 2', async () => {
    const result = await runTs('src/api/server.ts', [], {
      MODEL_DIR: testModelDir(),
      PORT: '70000',
      MAX_BATCH_SIZE: 'lots',
      LOG_LEVEL: 'loud',
      API_KEYS: 'short',
      HOST: '127.0.0.1',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("PORT: must be an integer from 0 to 65535, got '70000'");
    expect(result.stderr).toContain("MAX_BATCH_SIZE: must be an integer from 1 to 10000, got 'lots'");
    expect(result.stderr).toContain("LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'");
    expect(result.stderr).toContain('API_KEYS: every key must be at least 16 characters');
  });

  it('refuses to start without a servable model, saying why', async () => {
    const result = await runTs('src/api/server.ts', [], { MODEL_DIR: '/nonexistent/model-dir', HOST: '127.0.0.1', PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/nonexistent/model-dir/model.json');
  });
});
