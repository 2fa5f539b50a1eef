/**
 * `npm run main -- [train options]`: the main job in one command. Trains (all options go to the training CLI),
 * builds, starts the API on the new model and prints where everything is plus a sample curl. Ctrl-C stops it.
 * `--no-serve` stops after training.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_PATIENT } from '../src/schema/feature-schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const serve = !args.includes('--no-serve');
const trainArgs = args.filter((a) => a !== '--no-serve');
const outIndex = trainArgs.indexOf('--out');
const outDir = path.resolve(root, outIndex >= 0 ? trainArgs[outIndex + 1]! : 'artifacts');
const port = Number(process.env.PORT ?? 8000);

function run(command: string, commandArgs: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

const trained = await run(process.execPath, ['--import', 'tsx', 'src/train/cli.ts', ...trainArgs]);
if (trained !== 0) process.exit(trained);
if (!serve) process.exit(0);

const built = await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
if (built !== 0) process.exit(built);

const api = spawn(process.execPath, ['dist/api/server.js'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, MODEL_DIR: outDir, PORT: String(port), HOST: process.env.HOST ?? '127.0.0.1' },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => api.kill(signal));
api.on('close', (code) => process.exit(code ?? 0));

const base = `http://127.0.0.1:${port}`;
if (!(await waitReady(`${base}/ready`, api))) {
  console.error(`error: the API did not become ready on ${base}; see its log above`);
  api.kill('SIGTERM');
} else {
  console.log(`
API serving ${path.join(outDir, 'model.onnx')} on ${base}
  page:    ${base}/
  docs:    ${base}/docs
  metrics: ${base}/metrics
  drift:   ${base}/drift/status
Try it:
  curl -s -X POST ${base}/predict -H 'content-type: application/json' \\
    -d '${JSON.stringify(EXAMPLE_PATIENT)}'
Ctrl-C stops the server.`);
}
