import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from '../config/cli-options.js';
import { runCli, UsageError } from '../config/cli-run.js';
import { FEATURE_SCHEMA } from '../features/feature-schema.js';
import { ensureDefaultDataset } from './data/download.js';
import { readPackageVersion, runTraining, type TrainResult } from './pipeline.js';
import { renderReport } from './report/html.js';
import { summaryTable } from './summary.js';
import { trackRun } from './tracking/track-run.js';
import { gitCommit } from './tracking/git-info.js';
import { TRAIN_HELP, TRAIN_OPTIONS } from './options.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function main(argv: string[]): Promise<number> {
  const parsed = parseOptions(TRAIN_OPTIONS, argv, true);
  if (!parsed.ok) throw new UsageError(parsed.problems.join('\nerror: '));
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(TRAIN_HELP);
    return 0;
  }
  const { seed, 'min-auc': minAuc, folds, holdout: holdoutFraction, calibration } = values;
  const missingIndicatorMinShare = values['missing-indicators'] === 'off' ? null : Number(values['missing-indicators']);

  const inputs = [...(values.data ?? []), ...positionals];
  const dataPaths = inputs.length
    ? inputs
    : [await ensureDefaultDataset(path.join(projectRoot, 'data/manifest.json'), path.join(projectRoot, 'data/raw'))];

  const started = new Date();
  const log = (line: string) => console.log(line);
  const producerVersion = await readPackageVersion(path.join(projectRoot, 'package.json'));
  const result: TrainResult = await runTraining({
    dataPaths,
    outDir: values.out,
    seed,
    minAuc,
    folds,
    holdoutFraction,
    exportAll: values['export-all'],
    missingIndicatorMinShare,
    calibration,
    schema: FEATURE_SCHEMA,
    producerVersion,
    gitCommit: process.env.GIT_COMMIT ?? (await gitCommit(projectRoot)),
    log,
  });
  await writeFile(result.files.report, renderReport(result.card, result.evaluations));

  console.log('');
  console.log(summaryTable(result.evaluations, result.card.selectedModel));
  console.log('');
  if (!values['no-track']) await trackRun(result, { runsDir: values['runs-dir'], startTime: started, seed, minAuc, log });
  console.log(`model:  ${result.files.onnx ?? '(not written: quality gate failed)'}`);
  console.log(`card:   ${result.files.modelJson}`);
  console.log(`report: ${result.files.report}`);
  console.log(`version: ${result.card.modelVersion}`);
  if (!result.gatePassed) {
    const best = result.card.models[result.card.selectedModel]!.cv.mean.rocAuc;
    console.error(
      `error: quality gate failed: best CV ROC-AUC ${best.toFixed(4)} (${result.card.selectedModel}) is below --min-auc ${minAuc}`,
    );
    return 3;
  }
  return 0;
}

// A data or usage problem is the user's to fix: exit 1 for both (3 is the quality gate's).
runCli(main, { failed: 1, usage: 1 });
