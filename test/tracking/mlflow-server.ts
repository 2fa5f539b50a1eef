/**
 * Starts a real `mlflow server` for the tracking tests: 127.0.0.1, a free port, sqlite backend and proxied
 * artifacts in a temp dir; stops the whole process group afterwards.
 *
 *   mlflowAvailable(): { available: boolean; reason: string }      // synchronous, for describe.runIf
 *   startMlflowServer(): Promise<RunningMlflow>                     // { uri, dir, startSeconds, stop() }
 *   freePort(): Promise<number>
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openSync } from 'node:fs';

export interface RunningMlflow {
  uri: string;
  dir: string;
  startSeconds: number;
  stop(): Promise<void>;
}

export function mlflowAvailable(): { available: boolean; reason: string } {
  const probe = spawnSync('mlflow', ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error)
    return { available: false, reason: `mlflow executable not found (${probe.error.message}); run scripts/ci/install-mlflow.sh` };
  if (probe.status !== 0)
    return {
      available: false,
      reason: `mlflow --version failed: ${(probe.stderr || probe.stdout).trim().split('\n').pop()}; run scripts/ci/install-mlflow.sh`,
    };
  return { available: true, reason: probe.stdout.trim() };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function healthy(uri: string): Promise<boolean> {
  try {
    const response = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function startMlflowServer(timeoutMs = 180_000): Promise<RunningMlflow> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hd-mlflow-'));
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  const logFile = path.join(dir, 'server.log');
  const log = openSync(logFile, 'a');
  const started = Date.now();
  const child = spawn(
    'mlflow',
    [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '1',
      '--backend-store-uri',
      `sqlite:///${path.join(dir, 'mlflow.db')}`,
      '--artifacts-destination',
      path.join(dir, 'artifacts'),
      '--serve-artifacts',
    ],
    // Own process group, so stop() also ends the uvicorn/gunicorn workers mlflow spawns.
    { detached: true, stdio: ['ignore', log, log] },
  );
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? -1;
  });

  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && exited === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const deadline = Date.now() + 10_000;
      while (exited === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (exited === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  while (!(await healthy(uri))) {
    if (exited !== null || Date.now() - started > timeoutMs) {
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
      await stop();
      throw new Error(
        `mlflow server on ${uri} ${exited !== null ? `exited with ${exited}` : `did not answer within ${timeoutMs} ms`}:\n${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { uri, dir, startSeconds: (Date.now() - started) / 1000, stop };
}
