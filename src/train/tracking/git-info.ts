/**
 * The git commit a run was trained from.
 *
 *   gitCommit(cwd?: string): Promise<string | null>   // full SHA of HEAD, null outside a git work tree
 *   gitDirty(cwd?: string): Promise<boolean | null>   // uncommitted changes present; null outside a git work tree
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function gitCommit(cwd = process.cwd()): Promise<string | null> {
  try {
    const { stdout } = await run('git', ['rev-parse', 'HEAD'], { cwd });
    const sha = stdout.trim();
    return /^[0-9a-f]{40,64}$/.test(sha) ? sha : null;
  } catch {
    // Not a repository, or git missing (e.g. inside a container): the run is still worth recording.
    return null;
  }
}

export async function gitDirty(cwd = process.cwd()): Promise<boolean | null> {
  try {
    const { stdout } = await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd });
    return stdout.trim() !== '';
  } catch {
    return null;
  }
}
