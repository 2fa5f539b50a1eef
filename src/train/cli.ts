import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FEATURE_SCHEMA } from '../features/feature-schema.js';
import { ensureDefaultDataset } from './data/download.js';
import { DEFAULT_CALIBRATION, DEFAULT_MISSING_INDICATOR_MIN_SHARE } from './fit-procedure.js';
import { readPackageVersion, runTraining, type TrainResult } from './pipeline.js';
import { renderReport } from './report/html.js';
import { summaryTable } from './summary.js';
import { trackRun } from './tracking/track-run.js';
import { gitCommit } from './tracking/git-info.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const HELP = `Train the heart-disease models, select one, export it as a single ONNX graph.

Usage: npm run train -- [options]

  --data <path...>   UCI processed file(s) or a directory of processed.*.data files (repeatable).
                     Default: the UCI download of processed.cleveland.data, cached under data/raw/ and
                     verified against data/manifest.json (size and sha256).
  --out <dir>        Where model.onnx, model.json and report.html go (default: artifacts)
  --seed <n>         Seed for splits and the random forest (default: 42)
  --min-auc <x>      Quality gate on the selected model's CV ROC-AUC (default: 0.85); below it, no model.onnx
                     is written and the exit code is 3
  --folds <k>        Stratified CV folds (default: 5)
  --holdout <f>      Stratified hold-out fraction (default: 0.2)
  --export-all       Also write model.<name>.onnx for every model
  --missing-indicators <share|off>
                     Add a missing-indicator column for every feature missing in at least this share of the
                     training rows (0 = any missing at all), or 'off' (default: ${DEFAULT_MISSING_INDICATOR_MIN_SHARE ?? 'off'})
  --calibration <platt|none>
                     Recalibrate probabilities with Platt scaling fitted on out-of-fold CV scores, inside the
                     graph (default: ${DEFAULT_CALIBRATION})
  --runs-dir <dir>   Local run store (default: runs); MLflow too when MLFLOW_TRACKING_URI is set
  --no-track         Record no run
  -h, --help         This help

Exit codes: 0 trained and gate passed, 1 error (bad data, bad options), 3 quality gate failed.`;

class UsageError extends Error {}

function numberOption(name: string, raw: string | undefined, fallback: number, check: (v: number) => boolean, rule: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || !check(value)) throw new UsageError(`--${name}: '${raw}' ${rule}`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        data: { type: 'string', multiple: true },
        out: { type: 'string', default: 'artifacts' },
        seed: { type: 'string' },
        'min-auc': { type: 'string' },
        folds: { type: 'string' },
        holdout: { type: 'string' },
        'export-all': { type: 'boolean', default: false },
        'missing-indicators': { type: 'string' },
        calibration: { type: 'string' },
        'runs-dir': { type: 'string', default: 'runs' },
        'no-track': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const seed = numberOption(
    'seed',
    values.seed,
    42,
    (v) => Number.isInteger(v) && v >= 0 && v <= 2 ** 32 - 1,
    'must be an integer from 0 to 4294967295',
  );
  const minAuc = numberOption('min-auc', values['min-auc'], 0.85, (v) => v >= 0 && v <= 1, 'must be a number from 0 to 1');
  const folds = numberOption('folds', values.folds, 5, (v) => Number.isInteger(v) && v >= 2 && v <= 20, 'must be an integer from 2 to 20');
  const holdoutFraction = numberOption('holdout', values.holdout, 0.2, (v) => v > 0 && v < 0.5, 'must be a number between 0 and 0.5');

  const missingIndicators = values['missing-indicators'];
  const missingIndicatorMinShare =
    missingIndicators === undefined
      ? DEFAULT_MISSING_INDICATOR_MIN_SHARE
      : missingIndicators === 'off'
        ? null
        : numberOption('missing-indicators', missingIndicators, 0, (v) => v >= 0 && v <= 1, "must be a share from 0 to 1 or 'off'");
  const calibration = values.calibration ?? DEFAULT_CALIBRATION;
  if (calibration !== 'platt' && calibration !== 'none') throw new UsageError(`--calibration: '${calibration}' must be 'platt' or 'none'`);

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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One line, no stack: a data or usage problem is the user's to fix, and the message says where.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${message}`);
    if (error instanceof UsageError) console.error('Run with --help for the options.');
    process.exitCode = 1;
  },
);
