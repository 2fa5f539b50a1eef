/**
 * Start the API as a child process and wait until it is ready: the one way every caller does it (`npm run main`,
 * the benchmark, the tests; the image checks use waitUntilReady against a container).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';
import { freePort } from './free-port.js';
import { repoRoot } from './model-dir.js';

export interface WaitOptions {
  /** Paths that must all answer 200 (default /ready). */
  paths?: readonly string[];
  timeoutMs?: number;
  pollMs?: number;
  /** False once the server can no longer become ready (process exited, container stopped): stop waiting. */
  stillRunning: () => boolean | Promise<boolean>;
  /** What to append to the error (the server's last output). */
  describe?: () => string | Promise<string>;
}

/** Poll `baseUrl` + each path until all answer 200; returns the milliseconds it took. Throws with the reason otherwise. */
export async function waitUntilReady(baseUrl: string, options: WaitOptions): Promise<number> {
  const started = performance.now();
  const deadline = started + (options.timeoutMs ?? 60_000);
  const paths = options.paths ?? ['/ready'];
  while (performance.now() < deadline) {
    if (!(await options.stillRunning())) {
      throw new Error(`the server stopped before ${paths.join(' and ')} answered 200${await detail(options)}`);
    }
    if (await allAnswer200(baseUrl, paths)) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
  throw new Error(`${baseUrl}${paths[0]} did not answer 200 within ${options.timeoutMs ?? 60_000} ms${await detail(options)}`);
}

async function allAnswer200(baseUrl: string, paths: readonly string[]): Promise<boolean> {
  for (const p of paths) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 2000);
    try {
      const res = await fetch(`${baseUrl}${p}`, { signal: controller.signal });
      await res.arrayBuffer();
      if (res.status !== 200) return false;
    } catch {
      return false; // not listening yet, or reset while starting
    } finally {
      clearTimeout(timer);
    }
  }
  return true;
}

async function detail(options: WaitOptions): Promise<string> {
  const text = options.describe ? (await options.describe()).trim() : '';
  return text ? `; last output:\n${text}` : '';
}

export interface ApiProcessOptions {
  /** Node arguments that start the server (default: the TypeScript entry point through tsx). */
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** 'capture' keeps the output for output(); 'inherit' shows it; 'ignore' drops stdout (stderr is kept). */
  output?: 'capture' | 'inherit' | 'ignore';
  readyPaths?: readonly string[];
  timeoutMs?: number;
  /** Called with the child as soon as it exists, so a caller can forward signals while it starts. */
  onSpawn?: (child: ChildProcess) => void;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() at exit. */
  at: number;
}

export interface ApiProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** What the process printed so far (capture: everything; ignore: stderr only; inherit: nothing). */
  output: () => string;
  exited: Promise<ExitStatus>;
  /** Send `signal` (default SIGTERM) and wait for the exit. */
  stop: (signal?: NodeJS.Signals) => Promise<ExitStatus>;
}

export const API_SOURCE_ENTRY = ['--import', 'tsx', path.join(repoRoot, 'src/api/server.ts')] as const;

/** Spawn the API on host:port and resolve once it is ready; a process that dies or never gets ready is killed and reported. */
export async function startApiProcess(options: ApiProcessOptions = {}): Promise<ApiProcess> {
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const mode = options.output ?? 'capture';
  const stdio: StdioOptions =
    mode === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', mode === 'capture' ? 'pipe' : 'ignore', 'pipe'];
  const child = spawn(process.execPath, [...(options.args ?? API_SOURCE_ENTRY)], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env, HOST: host, PORT: String(port) },
    stdio,
  });
  options.onSpawn?.(child);
  let output = '';
  // capture keeps everything (tests read every log line); otherwise only stderr's tail, for error messages.
  const keep = (d: Buffer) => (output = mode === 'capture' ? output + d.toString() : (output + d.toString()).slice(-8000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  let running = true;
  void exited.then(() => (running = false));
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  try {
    await waitUntilReady(url, {
      paths: options.readyPaths,
      timeoutMs: options.timeoutMs,
      stillRunning: () => running,
      describe: () => output.slice(-3000),
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    child,
    url,
    port,
    output: () => output,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (running) child.kill(signal);
      return exited;
    },
  };
}
