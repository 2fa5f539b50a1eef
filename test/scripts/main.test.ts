/**
 * `npm run main` as a process manager or CI runner uses it: SIGTERM goes to the npm process (not a terminal's whole
 * process group), and nothing it started may outlive it — above all not the API holding the port.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { waitUntilReady } from '../../scripts/lib/api-process.js';
import { clevelandFile, repoRoot } from '../support/paths.js';

const answers = async (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    () => true,
    () => false,
  );

describe('npm run main', () => {
  it('trains, serves, and on SIGTERM to npm itself stops the API with it', async () => {
    const port = await freePort();
    const out = mkdtempSync(path.join(os.tmpdir(), 'hd-main-'));
    const npm = spawn('npm', ['run', 'main', '--', '--data', clevelandFile, '--out', out, '--no-track'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, only so that a failing run can be cleaned up; the test signals npm alone.
      detached: true,
    });
    let output = '';
    npm.stdout.on('data', (d: Buffer) => (output += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    let running = true;
    void exited.then(() => (running = false));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilReady(url, { timeoutMs: 240_000, stillRunning: () => running, describe: () => output.slice(-3000) });
      // main prints where everything is once it has seen /ready itself.
      for (let i = 0; i < 100 && !output.includes('API serving'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(output).toContain(`API serving ${path.join(out, 'model.onnx')}`);

      npm.kill('SIGTERM');
      await exited;
      // The API drains and exits on the forwarded SIGTERM; give it its grace, then nothing may answer on the port.
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await answers(`${url}/health`))) await new Promise((r) => setTimeout(r, 200));
      expect(await answers(`${url}/health`), `the API still answers on ${url} after npm run main got SIGTERM`).toBe(false);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL'); // whatever is left of the group after a failure
      } catch {
        // nothing left
      }
    }
  });
});
