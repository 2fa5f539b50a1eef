/**
 * `npm run train` options, stated once: parseArgs' table, validation messages, --help and the README's table come
 * from here (src/config/cli-options.ts).
 */
import Type from 'typebox';
import { optionsHelp, type CliOptions } from '../config/cli-options.js';
import { DEFAULT_CALIBRATION, DEFAULT_MISSING_INDICATOR_MIN_SHARE } from './fit-procedure.js';

export const TRAIN_OPTIONS = {
  data: {
    schema: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'UCI processed file or a directory of `processed.*.data` files (also as positional arguments); by default the UCI ' +
          'download of `processed.cleveland.data`, cached under `data/raw/` and verified by size and sha256 from `data/manifest.json`',
      }),
    ),
    arg: '<path>',
    defaultText: 'UCI Cleveland download',
  },
  out: {
    schema: Type.String({ default: 'artifacts', description: 'where `model.onnx`, `model.json` and `report.html` go' }),
    arg: '<dir>',
  },
  seed: {
    schema: Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1, default: 42, description: 'seed for the splits and the random forest' }),
  },
  'min-auc': {
    schema: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.85,
      description: "quality gate on the selected model's CV ROC-AUC; below it no `model.onnx` is written and the exit code is 3",
    }),
  },
  folds: { schema: Type.Integer({ minimum: 2, maximum: 20, default: 5, description: 'stratified cross-validation folds' }), arg: '<k>' },
  holdout: {
    schema: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 0.5, default: 0.2, description: 'stratified hold-out fraction' }),
    arg: '<f>',
  },
  'export-all': { schema: Type.Boolean({ default: false, description: 'also write `model.<name>.onnx` for every model' }) },
  'missing-indicators': {
    schema: Type.String({
      pattern: '^(off|0|1|0?\\.[0-9]+)$',
      default: DEFAULT_MISSING_INDICATOR_MIN_SHARE === null ? 'off' : String(DEFAULT_MISSING_INDICATOR_MIN_SHARE),
      description:
        'add a missing-indicator column (inside the graph) for every feature missing in at least this share of the training rows ' +
        '(0 = any missing at all), or `off`; the default was chosen by leave-one-file-out evidence (README)',
    }),
    arg: '<share|off>',
  },
  calibration: {
    schema: Type.Enum(['platt', 'none'], {
      default: DEFAULT_CALIBRATION,
      description: 'recalibrate probabilities with Platt scaling fitted on out-of-fold CV scores, inside the graph, or not',
    }),
  },
  'runs-dir': {
    schema: Type.String({ default: 'runs', description: 'local run store; MLflow too when `MLFLOW_TRACKING_URI` is set' }),
    arg: '<dir>',
  },
  'no-track': { schema: Type.Boolean({ default: false, description: 'record no run' }) },
  help: { schema: Type.Boolean({ default: false, description: 'this help' }), short: 'h' },
} satisfies CliOptions;

export const TRAIN_HELP = `Train the heart-disease models, select one, export it as a single ONNX graph.

Usage: npm run train -- [options] [data paths...]

${optionsHelp(TRAIN_OPTIONS)}

Exit codes: 0 trained and gate passed, 1 error (bad data, bad options), 3 quality gate failed.`;
