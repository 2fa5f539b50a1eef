import type { TrainResult } from '../pipeline.js';
import { recordLocalRun } from './local-store.js';
import { logRunToMlflow, mlflowConfigFromEnv } from './mlflow.js';
import type { MetricTree } from './run-record.js';

export interface TrackOptions {
  runsDir: string;
  startTime: Date;
  seed: number;
  minAuc: number;
  log: (line: string) => void;
}

/** Params and metrics of a training run, as both trackers record them. */
export function runRecordOf(result: TrainResult, options: Pick<TrackOptions, 'seed' | 'minAuc' | 'startTime'>) {
  const metrics: MetricTree = {};
  for (const [name, model] of Object.entries(result.card.models)) {
    const { confusion: _c, ...holdout } = model.holdout;
    metrics[name] = { cv: { ...model.cv.mean }, holdout };
  }
  return {
    runName: `train-${result.card.modelVersion}`,
    params: {
      seed: options.seed,
      min_auc: options.minAuc,
      folds: result.card.split.folds,
      holdout_fraction: result.card.split.holdoutFraction,
      selected_model: result.card.selectedModel,
      data_sha256: result.card.data.files.map((f) => f.sha256).join(','),
      hyper_parameters: JSON.parse(
        JSON.stringify(Object.fromEntries(Object.entries(result.card.models).map(([n, m]) => [n, m.hyperParameters]))),
      ),
    },
    metrics,
    tags: { model_version: result.card.modelVersion, gate: result.gatePassed ? 'passed' : 'failed' },
    artifactFiles: [result.files.onnx, result.files.modelJson, result.files.report, ...result.files.extraOnnx].filter(
      (f): f is string => f !== null,
    ),
    startTime: options.startTime,
    status: result.gatePassed ? ('FINISHED' as const) : ('FAILED' as const),
  };
}

/** Local run store always; MLflow too when MLFLOW_TRACKING_URI is set (its failure fails the run: nothing is lost silently). */
export async function trackRun(result: TrainResult, options: TrackOptions): Promise<void> {
  const record = runRecordOf(result, options);
  const local = await recordLocalRun(options.runsDir, record, { gitCommit: result.card.gitCommit });
  options.log(`run:    ${local.dir}`);
  const mlflow = mlflowConfigFromEnv();
  if (mlflow) {
    const logged = await logRunToMlflow({
      ...mlflow,
      ...record,
      gitCommit: result.card.gitCommit,
      localRunId: local.runId,
      registerModel: result.gatePassed,
    });
    options.log(`mlflow: ${logged.runUrl}${logged.modelVersion ? ` (registered model version ${logged.modelVersion})` : ''}`);
  }
}
