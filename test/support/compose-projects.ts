/**
 * Docker Compose projects of the tests: each run names its own (`hd-compose-<suite>-<pid>`) and removes it after. A
 * project left by a run that was killed keeps its network, and Docker's default address pools hold ~30 bridge
 * networks: leftovers would make every later `up` or `run` fail ("could not find an available, non-overlapping IPv4
 * address pool"). So a suite first removes what earlier test projects left, once their test process has ended.
 */
import { runProcess } from '../../scripts/lib/process.js';

export const TEST_PROJECT_PREFIX = 'hd-compose-';

/** Whether the test process that named a project (its pid is the name's last number) is still running. */
function ownerAlive(name: string): boolean {
  const pid = Number(/-(\d+)_[^_]*$/.exec(name)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Remove the networks and volumes of earlier test projects whose test process has ended (a suite running now, in
 * another worker, keeps its own); a network or volume a container still uses is left alone (Docker refuses).
 */
export async function removeStaleTestProjects(): Promise<void> {
  for (const kind of ['network', 'volume'] as const) {
    const listed = await runProcess('docker', [kind, 'ls', '--filter', 'label=com.docker.compose.project', '--format', '{{.Name}}']);
    if (listed.code !== 0) continue;
    const stale = listed.stdout
      .split('\n')
      .map((name) => name.trim())
      .filter((name) => name.startsWith(TEST_PROJECT_PREFIX) && !ownerAlive(name));
    for (const name of stale) await runProcess('docker', [kind, 'rm', name]);
  }
}
