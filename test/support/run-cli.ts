import path from 'node:path';
import { runProcess, type ProcessResult } from '../../scripts/lib/process.js';
import { repoRoot } from './paths.js';

export type CliResult = ProcessResult;

/** Run a TypeScript entry point of the project (through tsx) as a user would, capturing its output. */
export const runTs = (entry: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 240_000): Promise<CliResult> =>
  runProcess(process.execPath, ['--import', 'tsx', path.join(repoRoot, entry), ...args], { cwd: repoRoot, env, timeoutMs });

export const runTrainCli = (args: string[], env?: NodeJS.ProcessEnv) => runTs('src/train/cli.ts', args, env);
