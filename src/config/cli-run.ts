/**
 * The edge every command line of the project shares: run its `main`, set the exit code from it, and report a failure
 * as one line without a stack (the message says what failed and where; a usage problem adds where the help is).
 */

/** The command line itself is wrong (an unknown option, a missing value): the user's to fix, with --help. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliExitCodes {
  /** The command ran and failed. */
  failed: number;
  /** The command line was wrong (UsageError). */
  usage: number;
}

/**
 * Run `main` on this process's arguments. `beforeReport` sees a failure's message first (a command whose stdout is
 * read by machines also says it failed there).
 */
export function runCli(main: (argv: string[]) => Promise<number>, codes: CliExitCodes, beforeReport?: (message: string) => void): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      beforeReport?.(message);
      console.error(`error: ${message}`);
      if (error instanceof UsageError) console.error('Run with --help for the options.');
      process.exitCode = error instanceof UsageError ? codes.usage : codes.failed;
    },
  );
}
