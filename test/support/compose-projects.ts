/**
 * Docker Compose projects of the tests: each run names its own (`hd-compose-<suite>-<pid>`) and removes it after. A
 * project left by a run that was killed keeps its network, and Docker's default address pools hold ~30 bridge
 * networks: leftovers would make every later `up` or `run` fail ("could not find an available, non-overlapping IPv4
 * address pool"). So a suite first removes the networks of earlier test projects that no container uses.
 */
import { runProcess } from '../../scripts/lib/process.js';

export const TEST_PROJECT_PREFIX = 'hd-compose-';

/** Whether the test process that named a project (its pid is the name's last number) is still running. */
function ownerAlive(network: string): boolean {
  const pid = Number(/-(\d+)_[^_]*$/.exec(network)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Remove the networks of earlier test projects whose test process has ended (a suite running now, in another worker,
 * keeps its own); a network a container still uses is left alone.
 */
export async function removeStaleTestNetworks(): Promise<void> {
  const listed = await runProcess('docker', ['network', 'ls', '--filter', 'label=com.docker.compose.project', '--format', '{{.Name}}']);
  if (listed.code !== 0) return;
  const stale = listed.stdout
    .split('\n')
    .map((name) => name.trim())
    .filter((name) => name.startsWith(TEST_PROJECT_PREFIX) && !ownerAlive(name));
  // `docker network rm` refuses (and changes nothing) for a network a container is attached to.
  for (const name of stale) await runProcess('docker', ['network', 'rm', name]);
}
