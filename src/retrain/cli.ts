/**
 * npm run retrain — see RETRAIN_HELP (src/retrain/options.ts). Exit codes: 0 promoted, 3 kept, 1 failed, 2 usage.
 */
import { parseOptions } from '../config/cli-options.js';
import { retrainWith, UsageError } from './from-options.js';
import { RETRAIN_EXIT, RETRAIN_HELP, RETRAIN_OPTIONS } from './options.js';

async function main(argv: string[]): Promise<number> {
  const parsed = parseOptions(RETRAIN_OPTIONS, argv);
  if (!parsed.ok) throw new UsageError(parsed.problems.join('\nerror: '));
  const { help, ...values } = parsed.values;
  if (help) {
    console.log(RETRAIN_HELP);
    return 0;
  }
  const result = await retrainWith(values, (line) => console.log(line));
  console.log(`decision report: ${result.files.decisionReport}`);
  return result.decision.promoted ? RETRAIN_EXIT.promoted : RETRAIN_EXIT.kept;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One line, no stack: the message says what failed and where.
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof UsageError) console.error('Run with --help for the options.');
    process.exitCode = error instanceof UsageError ? RETRAIN_EXIT.usage : RETRAIN_EXIT.failed;
  },
);
