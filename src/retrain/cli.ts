/**
 * npm run retrain — see RETRAIN_HELP (src/retrain/options.ts). Exit codes: 0 promoted, 3 kept, 1 failed, 2 usage.
 */
import { parseOptions } from '../config/cli-options.js';
import { runCli, UsageError } from '../config/cli-run.js';
import { retrainWith } from './from-options.js';
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

runCli(main, RETRAIN_EXIT);
