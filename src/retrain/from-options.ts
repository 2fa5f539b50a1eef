/**
 * The retraining that command-line values describe, shared by `npm run retrain` and the trigger.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OptionValues } from '../config/cli-options.js';
import { UsageError } from '../config/cli-run.js';
import { FEATURE_SCHEMA } from '../features/feature-schema.js';
import { mlflowConfigFromEnv } from '../mlflow/client.js';
import { ensureDefaultDataset } from '../train/data/download.js';
import { readPackageVersion } from '../train/pipeline.js';
import { gitCommit } from '../train/tracking/git-info.js';
import { openLabelledSource } from './open-labelled-source.js';
import type { RETRAIN_OPTIONS } from './options.js';
import { runRetrain, type RetrainResult } from './retrain.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The retraining the options describe; shared by this CLI and the trigger. `log` gets the progress lines. */
export async function retrainWith(
  values: Omit<OptionValues<typeof RETRAIN_OPTIONS>, 'help'>,
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RetrainResult> {
  const mlflow = mlflowConfigFromEnv(env);
  if (!mlflow)
    throw new UsageError(
      'MLFLOW_TRACKING_URI is not set: retraining reads the champion from the MLflow registry and registers the challenger there',
    );
  const dataPaths = values.data?.length
    ? values.data
    : [await ensureDefaultDataset(path.join(projectRoot, 'data/manifest.json'), path.join(projectRoot, 'data/raw'))];
  const source = await openLabelledSource({ files: values.labelled ?? [], env, features: FEATURE_SCHEMA.features });
  try {
    return await runRetrain({
      dataPaths,
      newRows: await source.rows(),
      newRowsSource: source.name,
      modelUri: values['model-uri'],
      mlflow,
      outDir: values.out,
      seed: values.seed,
      holdoutFraction: values.holdout,
      newHoldoutFraction: values['new-holdout'],
      minAuc: values['min-auc'],
      rule: { brierMargin: values['brier-margin'], aucMargin: values['auc-margin'], minNewHoldout: values['min-new-holdout'] },
      schema: FEATURE_SCHEMA,
      producerVersion: await readPackageVersion(path.join(projectRoot, 'package.json')),
      gitCommit: env.GIT_COMMIT ?? (await gitCommit(projectRoot)),
      log,
    });
  } finally {
    await source.close();
  }
}
