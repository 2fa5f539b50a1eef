/**
 * The ci step's failure message without the SDK's ExecError class (which the engine's module runtime does not
 * serve): a failed command is told by its name and fields, and the message keeps its command, exit code and output
 * tail. Checked with the SDK's real ExecError, the class the runtime's bundled library throws.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeError, isFailedExec } from '../../dagger/src/failed-exec.js';
import { daggerSdkInstalled, sdkDir } from './dagger-module.js';
import { repoRoot } from '../support/paths.js';

type ExecErrorClass = new (
  message: string,
  options: { cmd: string[]; exitCode: number; stdout: string; stderr: string },
) => Error & { cmd: string[]; exitCode: number };

/** The SDK's ExecError; a missing install fails the test (with the command to run), never skips it. */
async function sdkExecError(): Promise<ExecErrorClass> {
  const index = path.join(sdkDir, 'dist/src/index.js');
  if (!existsSync(index)) {
    throw new Error(`@dagger.io/dagger is not installed in dagger/ (no ${path.relative(repoRoot, index)}): run npm ci --prefix dagger`);
  }
  return ((await import(pathToFileURL(index).href)) as { ExecError: ExecErrorClass }).ExecError;
}

describe('describeError (dagger/src/failed-exec.ts)', () => {
  it.skipIf(!daggerSdkInstalled())(
    "recognises the SDK's ExecError by name and fields, keeping the command, exit code and the last 20 output lines",
    async () => {
      const ExecError = await sdkExecError();
      const stdout = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n');
      const error = new ExecError('process "npm run lint" did not complete successfully: exit code: 1', {
        cmd: ['npm', 'run', 'lint'],
        exitCode: 1,
        stdout,
        stderr: 'eslint: 2 problems',
      });
      expect(error.name).toBe('ExecError');
      expect(isFailedExec(error)).toBe(true);
      const lines = describeError(error).split('\n');
      expect(lines[0]).toBe('`npm run lint` exited with 1');
      expect(lines.slice(1)).toEqual([...Array.from({ length: 19 }, (_, i) => `line ${i + 12}`), 'eslint: 2 problems']);
    },
  );

  it('gives any other error its own message, including one named ExecError without the fields', () => {
    expect(describeError(new Error('image label is wrong'))).toBe('image label is wrong');
    const lookalike = Object.assign(new Error('not an exec'), { name: 'ExecError', cmd: 'npm test' });
    expect(isFailedExec(lookalike)).toBe(false);
    expect(describeError(lookalike)).toBe('not an exec');
    expect(describeError('a string')).toBe('a string');
  });
});
