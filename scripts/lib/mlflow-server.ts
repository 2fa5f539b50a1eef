/**
 * Starts a real `mlflow server` (the tracking tests, `npm run loop`): 127.0.0.1 (or `host`), a free port, sqlite
 * backend and proxied artifacts in a temp dir; stops the whole process group afterwards.
 *
 *   mlflowAvailable(): { available: boolean; reason: string }      // synchronous PATH lookup, for describe.runIf
 *   startMlflowServer(timeoutMs?, { host? }): Promise<RunningMlflow>   // { uri, dir, version, startSeconds, stop() }
 *   freePort(): Promise<number>
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';

import os from 'node:os';
import path from 'node:path';
import { accessSync, constants, openSync } from 'node:fs';
import { freePort } from './free-port.js';

export { freePort };

export interface RunningMlflow {
  uri: string;
  dir: string;
  version: string;
  startSeconds: number;
  stop(): Promise<void>;
}

/** A PATH lookup only: launching `mlflow --version` costs seconds of Python start-up at every test collection. */
export function mlflowAvailable(): { available: boolean; reason: string } {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'mlflow');
    try {
      accessSync(candidate, constants.X_OK);
      return { available: true, reason: candidate };
    } catch {
      // not in this directory
    }
  }
  return { available: false, reason: 'no mlflow executable on PATH; run scripts/ci/install-mlflow.sh' };
}

async function healthy(uri: string): Promise<boolean> {
  try {
    const response = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export interface MlflowServerOptions {
  /**
   * Address to listen on instead of 127.0.0.1, e.g. the node address pods of the project's cluster reach the host on.
   * MLflow 3 then accepts that address (and localhost) as the Host header: its default list has private ranges only.
   */
  host?: string;
}

export async function startMlflowServer(timeoutMs = 240_000, options: MlflowServerOptions = {}): Promise<RunningMlflow> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hd-mlflow-'));
  const port = await freePort();
  const host = options.host ?? '127.0.0.1';
  const uri = `http://${host}:${port}`;
  const allowedHosts = options.host
    ? ['--allowed-hosts', [host, 'localhost', '127.0.0.1'].flatMap((h) => [h, `${h}:${port}`]).join(',')]
    : [];
  const logFile = path.join(dir, 'server.log');
  const log = openSync(logFile, 'a');
  const started = Date.now();
  const child = spawn(
    'mlflow',
    [
      'server',
      '--host',
      host,
      ...allowedHosts,
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
  const startSeconds = (Date.now() - started) / 1000;
  const version = await fetch(`${uri}/version`).then((r) => r.text());
  return { uri, dir, version, startSeconds, stop };
}
