/**
 * Failed commands, recognised without the SDK's ExecError class: the engine's module runtime serves the module its
 * own generated `@dagger.io/dagger`, which does not export it (only the decorators, connect/connection, Context,
 * entrypoint and the generated client), so an import of the class fails the whole module at load. The error the
 * runtime's library throws still carries the class's name and fields, and those are what is checked here.
 */

/** How many output lines of a failed command a message keeps (the tail, where the error usually is). */
const OUTPUT_TAIL_LINES = 20;

/** The fields of the SDK's ExecError (name 'ExecError'; set from the engine's EXEC_ERROR extensions). */
interface FailedExec {
  name: 'ExecError';
  cmd: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A command the engine ran that exited non-zero, told by the error's name and fields rather than its class. */
export function isFailedExec(error: unknown): error is FailedExec {
  if (typeof error !== 'object' || error === null) return false;
  const fields = error as Record<string, unknown>;
  return (
    fields.name === 'ExecError' &&
    Array.isArray(fields.cmd) &&
    fields.cmd.every((arg) => typeof arg === 'string') &&
    typeof fields.exitCode === 'number' &&
    typeof fields.stdout === 'string' &&
    typeof fields.stderr === 'string'
  );
}

/** The step's own message; for a failed command, the command, its exit code and the tail of its output. */
export function describeError(error: unknown): string {
  if (isFailedExec(error)) {
    const tail = `${error.stdout}\n${error.stderr}`.trim().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
    return `\`${error.cmd.join(' ')}\` exited with ${error.exitCode}\n${tail}`;
  }
  return error instanceof Error ? error.message : String(error);
}
