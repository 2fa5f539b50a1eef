import { waitUntilReady } from '../../lib/api-process.js';
import { API_PORT } from '../../../src/contract/artifact-contract.js';
import { docker, dockerChecked } from '../../lib/process.js';

export interface RunningContainer {
  id: string;
  baseUrl: string;
}

/** Marks every container the smoke test starts, so one left behind by a killed run is easy to find and remove:
 *  docker rm -f $(docker ps -aq --filter label=dev.heart-disease-mlops.smoke) */
export const SMOKE_LABEL = 'dev.heart-disease-mlops.smoke=1';

/** `docker run -d` with the API port published on a random 127.0.0.1 port (never on all interfaces). */
export async function startContainer(image: string, extraArgs: readonly string[] = []): Promise<RunningContainer> {
  const id = (
    await dockerChecked(['run', '-d', '--label', SMOKE_LABEL, '--publish', `127.0.0.1::${API_PORT}`, ...extraArgs, image])
  ).trim();
  const mapping = (await dockerChecked(['port', id, `${API_PORT}/tcp`])).trim().split('\n')[0] ?? '';
  const port = Number(mapping.split(':').pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`cannot read the published port of ${id}: '${mapping}'`);
  return { id, baseUrl: `http://127.0.0.1:${port}` };
}

export async function isRunning(id: string): Promise<boolean> {
  const result = await docker(['inspect', '--format', '{{.State.Running}}', id]);
  return result.stdout.trim() === 'true';
}

/**
 * Wait until GET /ready answers 200; returns milliseconds from `since` (a performance.now() reading).
 * Gives up early when the container exits (a crashed server is never going to be ready).
 */
export async function waitForReady(container: RunningContainer, since: number, timeoutMs = 30_000, pollMs = 20): Promise<number> {
  let polls = 0;
  await waitUntilReady(container.baseUrl, {
    timeoutMs: Math.max(0, since + timeoutMs - performance.now()),
    pollMs,
    // docker inspect is slow next to a 20 ms poll: ask every 25th time.
    stillRunning: () => (++polls % 25 === 0 ? isRunning(container.id) : true),
    describe: () => containerLogs(container.id),
  });
  return performance.now() - since;
}

export async function containerLogs(id: string, lines = 40): Promise<string> {
  const result = await docker(['logs', '--tail', String(lines), id]);
  return (result.stdout + result.stderr).trim();
}

export interface StopOutcome {
  exitCode: number;
  seconds: number;
  oomKilled: boolean;
}

/** `docker stop` sends SIGTERM to PID 1 and SIGKILL after graceS; exit 0 well inside the grace = graceful drain. */
export async function stopContainer(id: string, graceS: number): Promise<StopOutcome> {
  const started = performance.now();
  await dockerChecked(['stop', '--time', String(graceS), id]);
  const seconds = (performance.now() - started) / 1000;
  const state = (await dockerChecked(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', id])).trim().split(' ');
  return { exitCode: Number(state[0]), seconds, oomKilled: state[1] === 'true' };
}

export async function removeContainer(id: string): Promise<void> {
  await docker(['rm', '--force', '--volumes', id]);
}

/** Wait for Docker's own HEALTHCHECK verdict (runs the image's HEALTHCHECK command inside the container). */
export async function waitForHealthStatus(id: string, timeoutMs = 20_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  let status = '';
  while (performance.now() < deadline) {
    status = (await docker(['inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{end}}', id])).stdout.trim();
    if (status === 'healthy' || status === 'unhealthy' || status === '') return status || 'no healthcheck';
    await new Promise((r) => setTimeout(r, 200));
  }
  return status;
}
