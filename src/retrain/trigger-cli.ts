/**
 * npm run retrain:trigger — see TRIGGER_HELP (src/retrain/options.ts). One JSON line on stdout; retraining's progress
 * on stderr. Exit 0 for no action, promoted and kept; 1 failed; 2 usage.
 */
import { parseOptions } from '../config/cli-options.js';
import { runCli, UsageError } from '../config/cli-run.js';
import { FEATURE_SCHEMA } from '../features/feature-schema.js';
import { MlflowClient, mlflowConfigFromEnv } from '../mlflow/client.js';
import { DEFAULT_EXPERIMENT_NAME } from '../train/tracking/mlflow.js';
import { retrainWith } from './from-options.js';
import { openLabelledSource } from './open-labelled-source.js';
import { RETRAIN_EXIT, TRIGGER_HELP, TRIGGER_OPTIONS } from './options.js';
import { lastRetrainTime, readDriftStatus, triggerDecision } from './trigger.js';

async function main(argv: string[]): Promise<number> {
  const parsed = parseOptions(TRIGGER_OPTIONS, argv);
  if (!parsed.ok) throw new UsageError(parsed.problems.join('\nerror: '));
  const { help, 'api-url': apiUrl, level, 'min-labels': minLabels, cooldown, ...retrainValues } = parsed.values;
  if (help) {
    console.log(TRIGGER_HELP);
    return 0;
  }
  if (!apiUrl) throw new UsageError('--api-url is required: the API whose /drift/status is read');
  const mlflow = mlflowConfigFromEnv();
  if (!mlflow)
    throw new UsageError('MLFLOW_TRACKING_URI is not set: the last retraining is read from MLflow, and retraining needs its registry');

  const drift = await readDriftStatus(apiUrl);
  const lastRetrainMs = await lastRetrainTime(new MlflowClient(mlflow), mlflow.experimentName ?? DEFAULT_EXPERIMENT_NAME);
  const since = lastRetrainMs === null ? null : new Date(lastRetrainMs).toISOString();
  const source = await openLabelledSource({ files: retrainValues.labelled ?? [], env: process.env, features: FEATURE_SCHEMA.features });
  let labels: number;
  try {
    labels = await source.count(since);
  } finally {
    await source.close();
  }
  const facts = { drift: drift.status, driftSamples: drift.sampleCount, labels, lastRetrainAt: since };
  const decision = triggerDecision(
    { drift: drift.status, labels, lastRetrainMs, nowMs: Date.now() },
    { level, minLabels, cooldownS: cooldown },
  );
  if (!decision.retrain) {
    console.log(JSON.stringify({ action: 'none', reason: decision.reason, detail: decision.detail, ...facts }));
    return 0;
  }
  const result = await retrainWith(retrainValues, (line) => console.error(line));
  console.log(
    JSON.stringify({
      action: 'retrained',
      reason: decision.reason,
      decision: result.decision.promoted ? 'promoted' : 'kept',
      decidedBy: result.decision.decidedBy,
      championVersion: result.champion.registryVersion,
      challengerVersion: result.challenger.registryVersion,
      brierNewRows: { champion: result.champion.scores.newRows.brier, challenger: result.challenger.scores.newRows.brier },
      runId: result.runId,
      report: result.files.decisionReport,
      ...facts,
    }),
  );
  return 0;
}

// The CronJob's log is read by machines: a failure is a JSON line on stdout too.
runCli(main, RETRAIN_EXIT, { beforeReport: (message) => console.log(JSON.stringify({ action: 'failed', error: message })) });
