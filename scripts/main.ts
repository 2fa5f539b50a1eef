/**
 * `npm run main -- [train options]`: the main job in one command. Trains (all options go to the training CLI),
 * builds, starts the API on the new model and prints where everything is plus a sample curl. Ctrl-C or SIGTERM
 * stops it and the API with it. `--no-serve` stops after training.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { MODEL_FILES } from '../src/contract/artifact-contract.js';
import { EXAMPLE_PATIENT } from '../src/features/feature-schema.js';
import { startApiProcess, type ApiProcess } from './lib/api-process.js';
import { repoRoot } from './lib/model-dir.js';

const args = process.argv.slice(2);
const serve = !args.includes('--no-serve');
const trainArgs = args.filter((a) => a !== '--no-serve');
const outIndex = trainArgs.indexOf('--out');
const outDir = path.resolve(repoRoot, outIndex >= 0 ? trainArgs[outIndex + 1]! : 'artifacts');
const port = Number(process.env.PORT ?? 8000);

// Whatever runs now (training, tsc, the API) stops with this process: a SIGTERM to `npm run main` (a CI runner, a
// process manager) must not leave an orphaned API holding the port.
let current: ChildProcess | null = null;
let api: ApiProcess | null = null;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    stopping = true;
    const child = api?.child ?? current;
    if (!child || child.exitCode !== null) process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
  });
}

function run(command: string, commandArgs: string[]): Promise<number> {
  return new Promise((resolve) => {
    current = spawn(command, commandArgs, { cwd: repoRoot, stdio: 'inherit' });
    current.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const trained = await run(process.execPath, ['--import', 'tsx', 'src/train/cli.ts', ...trainArgs]);
if (trained !== 0 || stopping) process.exit(trained || 1);
if (!serve) process.exit(0);

const built = await run(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
if (built !== 0 || stopping) process.exit(built || 1);

try {
  api = await startApiProcess({
    args: ['dist/api/server.js'],
    env: { MODEL_DIR: outDir },
    host: process.env.HOST ?? '127.0.0.1',
    port,
    output: 'inherit',
    onSpawn: (child) => (current = child),
  });
} catch (error) {
  console.error(`error: the API did not become ready: ${(error as Error).message}`);
  process.exit(1);
}
void api.exited.then((exit) => process.exit(exit.code ?? 0));
console.log(`
API serving ${path.join(outDir, MODEL_FILES.onnx)} on ${api.url}
  page:    ${api.url}/
  docs:    ${api.url}/docs
  metrics: ${api.url}/metrics
  drift:   ${api.url}/drift/status
Try it:
  curl -s -X POST ${api.url}/predict -H 'content-type: application/json' \\
    -d '${JSON.stringify(EXAMPLE_PATIENT)}'
Ctrl-C stops the server.`);
