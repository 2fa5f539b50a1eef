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

export interface CliReporting {
  /** Sees a failure's message first (a command whose stdout is read by machines also says it failed there). */
  beforeReport?: (message: string) => void;
  /** Printed after a usage error; default: where the help is. */
  usage?: string;
}

/** Run `main` on this process's arguments. */
export function runCli(main: (argv: string[]) => Promise<number>, codes: CliExitCodes, reporting: CliReporting = {}): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      reporting.beforeReport?.(message);
      console.error(`error: ${message}`);
      if (error instanceof UsageError) console.error(reporting.usage ? `\n${reporting.usage}` : 'Run with --help for the options.');
      process.exitCode = error instanceof UsageError ? codes.usage : codes.failed;
    },
  );
}
