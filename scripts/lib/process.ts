import { spawn } from 'node:child_process';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Live output (e.g. docker build progress); stdout and stderr are still captured. */
  echo?: (chunk: string) => void;
}

/** Run a command without a shell and capture its output; never rejects for a non-zero exit (callers decide). */
export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.echo?.(d.toString());
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.echo?.(d.toString());
    });
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like runProcess, but a non-zero exit is an error that carries the command's stderr. */
export async function runChecked(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await runProcess(command, args, options);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    throw new Error(`${command} ${args.slice(0, 3).join(' ')} exited with ${result.code}: ${detail}`);
  }
  return result.stdout;
}

export const docker = (args: readonly string[], options?: RunOptions) => runProcess('docker', args, options);
export const dockerChecked = (args: readonly string[], options?: RunOptions) => runChecked('docker', args, options);

/** Whether a Docker engine answers, and if not, why (for realComponent and the CLIs). */
export async function dockerEngineStatus(): Promise<{ available: boolean; reason: string }> {
  try {
    const result = await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 15_000 });
    if (result.code === 0) return { available: true, reason: `engine ${result.stdout.trim()}` };
    return { available: false, reason: `docker info failed: ${result.stderr.trim()} (run scripts/ci/start-docker.sh)` };
  } catch (err) {
    return { available: false, reason: `docker CLI not runnable: ${(err as Error).message} (run scripts/ci/install-docker.sh)` };
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
