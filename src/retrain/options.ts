/**
 * `npm run retrain` and `npm run retrain:trigger` options, stated once: parseArgs' table, validation messages, --help
 * and the README's tables come from here (src/config/cli-options.ts). The promotion rule's margins live here and
 * nowhere else.
 */
import Type from 'typebox';
import { optionsHelp, type CliOptions } from '../config/cli-options.js';
import { REGISTRY } from '../contract/artifact-contract.js';
import { TRAIN_OPTIONS } from '../train/options.js';

/** Share of the new labelled rows held out as evidence (by content hash). */
export const DEFAULT_NEW_HOLDOUT = 0.3;

export const DEFAULT_MODEL_URI = `models:/${REGISTRY.modelName}@${REGISTRY.aliases.champion}`;

/** Exit codes of `npm run retrain` (the trigger exits 0 for promoted and kept alike). */
export const RETRAIN_EXIT = { promoted: 0, failed: 1, usage: 2, kept: 3 } as const;

export const RETRAIN_OPTIONS = {
  data: {
    schema: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'original training data: UCI processed file or directory, as for `npm run train` (the champion must have been trained on it ' +
          'with the same --seed and --holdout, so its hold-out is rows the champion never saw)',
      }),
    ),
    arg: '<path>',
    defaultText: 'UCI Cleveland download',
  },
  labelled: {
    schema: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'labelled new rows in UCI processed format (the target column is the observed outcome); without it the labelled predictions ' +
          'of the prediction log are read (`DATABASE_URL`, else the SQLite file the API writes)',
      }),
    ),
    arg: '<file>',
    defaultText: 'the prediction log',
  },
  'model-uri': {
    schema: Type.String({
      default: DEFAULT_MODEL_URI,
      pattern: '^models:/[^/@]+@[A-Za-z0-9_-]+$',
      description: 'the champion: a registry alias (`MLFLOW_TRACKING_URI` names the server); promotion moves this alias',
    }),
    arg: '<models:/name@alias>',
  },
  out: { schema: Type.String({ default: 'artifacts/retrain', description: 'where the challenger and `decision.html` go' }), arg: '<dir>' },
  seed: TRAIN_OPTIONS.seed,
  holdout: {
    schema: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 0.5,
      default: 0.2,
      description: "the original data's stratified hold-out fraction (as the champion was trained with)",
    }),
    arg: '<f>',
  },
  'new-holdout': {
    schema: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: DEFAULT_NEW_HOLDOUT,
      description:
        'share of the new labelled rows held out, chosen by a hash of the row content: the same row is on the same side in every run',
    }),
    arg: '<f>',
  },
  'min-new-holdout': {
    schema: Type.Integer({
      minimum: 1,
      default: 20,
      description: 'fewer held-out new rows than this is too little evidence: the champion is kept',
    }),
    arg: '<n>',
  },
  'min-auc': TRAIN_OPTIONS['min-auc'],
  'brier-margin': {
    schema: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.005,
      description: "rule: the challenger's Brier score on the held-out new rows must be lower than the champion's by at least this",
    }),
    arg: '<x>',
  },
  'auc-margin': {
    schema: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.02,
      description: "rule: the challenger's ROC-AUC on the original hold-out may be below the champion's by at most this",
    }),
    arg: '<x>',
  },
  help: { schema: Type.Boolean({ default: false, description: 'this help' }), short: 'h' },
} satisfies CliOptions;

export const RETRAIN_HELP = `Retrain on the original data plus labelled outcomes, compare the challenger with the registry's champion on the
same held-out rows, register it, and promote it only under the rule.

Usage: npm run retrain -- [options]      (MLFLOW_TRACKING_URI must name the MLflow server)

${optionsHelp(RETRAIN_OPTIONS)}

Rule: promoted when (1) the challenger passes the quality gate (--min-auc on CV ROC-AUC), (2) its Brier score on the
held-out new rows is lower than the champion's by at least --brier-margin, and (3) its ROC-AUC on the original hold-out
is not below the champion's by more than --auc-margin; otherwise kept (alias ${REGISTRY.aliases.challenger}).

Exit codes: ${RETRAIN_EXIT.promoted} promoted, ${RETRAIN_EXIT.kept} kept (champion unchanged), ${RETRAIN_EXIT.failed} failed, ${RETRAIN_EXIT.usage} usage error.`;

export const DRIFT_LEVELS = ['warning', 'drift'] as const;

const { help: _help, ...retrainOptionsWithoutHelp } = RETRAIN_OPTIONS;

export const TRIGGER_OPTIONS = {
  'api-url': {
    schema: Type.Optional(Type.String({ pattern: '^https?://', description: 'the API whose `/drift/status` is read (required)' })),
    arg: '<url>',
  },
  level: {
    schema: Type.Enum([...DRIFT_LEVELS], {
      default: 'drift',
      description: 'retrain when `/drift/status` is at least this level',
    }),
  },
  'min-labels': {
    schema: Type.Integer({
      minimum: 1,
      default: 50,
      description: 'and at least this many labelled rows arrived since the last retraining',
    }),
    arg: '<n>',
  },
  cooldown: {
    schema: Type.Integer({
      minimum: 0,
      default: 21_600,
      description: 'seconds after the last retraining (the newest retrain run in MLflow) during which nothing is retrained',
    }),
    arg: '<s>',
  },
  ...retrainOptionsWithoutHelp,
  help: { schema: Type.Boolean({ default: false, description: 'this help' }), short: 'h' },
} satisfies CliOptions;

export const TRIGGER_HELP = `Retrain when the API reports drift and enough outcomes came back, at most once per cool-down.

Usage: npm run retrain:trigger -- --api-url <url> [options]     (MLFLOW_TRACKING_URI must name the MLflow server)

${optionsHelp(TRIGGER_OPTIONS)}

Prints its decision as one JSON line on stdout (retraining's progress goes to stderr).
Exit codes: 0 nothing to do, promoted or kept; 1 failed; 2 usage error.`;
