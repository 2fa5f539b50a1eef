/**
 * Log a training run to an MLflow tracking server over its REST API (no SDK) and register the model.
 *
 *   logRunToMlflow(input: MlflowRunInput): Promise<MlflowRunResult>
 *     input = RunRecord (runName, params, metrics, tags?, artifactFiles?, startTime?, status?)
 *           & MlflowClientConfig (trackingUri, token?, username?, password?, timeoutMs?, fetchImpl?)
 *           & { experimentName? = 'heart-disease', registeredModelName? = REGISTRY.modelName,
 *               registerModel? = true, gitCommit?, localRunId?, sourceName? }
 *     result = { experimentId, runId, artifactUri, modelVersion: string | null, runUrl }
 *   planLogBatches(params, metrics, tags, timestampMs): LogBatchBody[]   // pure; respects MLflow batch limits
 *
 * Typical call from training:
 *   const env = mlflowConfigFromEnv();   // null when MLFLOW_TRACKING_URI is unset
 *   if (env) await logRunToMlflow({ ...env, ...record, gitCommit, localRunId: local.runId });
 *
 * Steps: get-or-create experiment by name → create run (tags incl. mlflow.source.git.commit) → log-batch params,
 * metrics, tags → upload artifacts through the server's artifact proxy: the contract's files (model.onnx, model.json,
 * report.html) into the run's REGISTRY.artifactPath directory, any other file at the run's root → end run
 * (FINISHED, or the record's status) → create a model version whose source is that directory, tagged from the card
 * (model_version, contract_version, onnx_sha256, git_commit). Registering needs model.onnx and a model.json that
 * names its digest, checked before the server is contacted. Any failure throws an MlflowError with a one-line
 * message; a run that fails half-way is marked FAILED on the server first.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MODEL_FILES, REGISTRY } from '../../contract/artifact-contract.js';
import { uploadArtifact, proxiedArtifactPath } from '../../mlflow/artifacts.js';
import { MlflowClient, MlflowError, type MlflowClientConfig } from '../../mlflow/client.js';
import { verifyModelPair, versionTags } from '../../mlflow/registered-model.js';
import { createModelVersion } from '../../mlflow/registry.js';
import { createRun, endRun, getOrCreateExperiment, logBatch, type KeyValue, type MetricEntry } from '../../mlflow/runs.js';
import { gitCommit as readGitCommit } from './git-info.js';
import { flattenMetrics, flattenParams, validateRunRecord, type MetricTree, type ParamTree, type RunRecord } from './run-record.js';

export { mlflowConfigFromEnv, MlflowError } from '../../mlflow/client.js';

export const DEFAULT_EXPERIMENT_NAME = 'heart-disease';

/** Limits enforced by the MLflow server (mlflow/utils/validation.py). */
export const MLFLOW_LIMITS = {
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  metricsPerBatch: 1000,
  entitiesPerBatch: 1000,
  paramValueLength: 6000,
  tagValueLength: 8000,
} as const;

export interface MlflowRunInput extends RunRecord, MlflowClientConfig {
  experimentName?: string;
  registeredModelName?: string;
  registerModel?: boolean;
  /** Commit to tag the run with; looked up with git when omitted. */
  gitCommit?: string | null;
  /** Id of the same run in the local store, kept as tag `local_run_id`. */
  localRunId?: string;
  /** Value of the `mlflow.source.name` tag (default 'src/train/cli.ts'). */
  sourceName?: string;
}

export interface MlflowRunResult {
  experimentId: string;
  runId: string;
  artifactUri: string;
  /** Version number (as MLflow returns it, a string) of the registered model, null when registerModel is false. */
  modelVersion: string | null;
  runUrl: string;
}

export interface LogBatchBody {
  params: KeyValue[];
  metrics: MetricEntry[];
  tags: KeyValue[];
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Splits params, metrics and tags into log-batch bodies that each stay within MLflow's per-request limits. */
export function planLogBatches(params: ParamTree, metrics: MetricTree, tags: Record<string, string>, timestampMs: number): LogBatchBody[] {
  const flatParams = flattenParams(params);
  for (const { key, value } of flatParams) {
    if (value.length > MLFLOW_LIMITS.paramValueLength) {
      throw new MlflowError(`params.${key}: value is ${value.length} characters; MLflow accepts at most ${MLFLOW_LIMITS.paramValueLength}`);
    }
  }
  const flatTags = Object.entries(tags).map(([key, value]) => ({ key, value }));
  for (const { key, value } of flatTags) {
    if (value.length > MLFLOW_LIMITS.tagValueLength) {
      throw new MlflowError(`tags.${key}: value is ${value.length} characters; MLflow accepts at most ${MLFLOW_LIMITS.tagValueLength}`);
    }
  }
  const flatMetrics = flattenMetrics(metrics).map(({ key, value }) => ({ key, value, timestamp: timestampMs, step: 0 }));
  // Params and tags share the 100-per-request limit; metrics have their own 1000 (equal to the total cap).
  const batches: LogBatchBody[] = [];
  for (const part of chunk(flatParams, MLFLOW_LIMITS.paramsPerBatch)) batches.push({ params: part, metrics: [], tags: [] });
  for (const part of chunk(flatTags, MLFLOW_LIMITS.tagsPerBatch)) batches.push({ params: [], metrics: [], tags: part });
  for (const part of chunk(flatMetrics, Math.min(MLFLOW_LIMITS.metricsPerBatch, MLFLOW_LIMITS.entitiesPerBatch))) {
    batches.push({ params: [], metrics: part, tags: [] });
  }
  return batches;
}

/** Where a file goes in the run's artifacts: the contract's files into the registered directory, others at the root. */
export function artifactPathOf(file: string): string {
  const name = path.basename(file);
  return (Object.values(MODEL_FILES) as string[]).includes(name) ? `${REGISTRY.artifactPath}/${name}` : name;
}

export async function logRunToMlflow(input: MlflowRunInput): Promise<MlflowRunResult> {
  if (!input.trackingUri)
    throw new MlflowError('MLflow: trackingUri is empty; set MLFLOW_TRACKING_URI to the http(s) address of an MLflow server');
  validateRunRecord(input);
  const client = new MlflowClient(input);
  const registerModel = input.registerModel ?? true;
  // Read every artifact before touching the server, so a missing file cannot leave a half-logged run.
  const artifacts = await Promise.all(
    (input.artifactFiles ?? []).map(async (file) => ({
      artifactPath: artifactPathOf(file),
      bytes: await readFile(file).catch((error: NodeJS.ErrnoException) => {
        throw new MlflowError(`artifactFiles: cannot read ${file} (${error.code ?? error.message})`);
      }),
    })),
  );
  // A registered version must be servable: model.onnx and a model.json that follows the contract and names its digest.
  let tags: Record<string, string> = {};
  if (registerModel) {
    const find = (name: string) => artifacts.find((a) => a.artifactPath === `${REGISTRY.artifactPath}/${name}`)?.bytes;
    const onnx = find(MODEL_FILES.onnx);
    const card = find(MODEL_FILES.card);
    if (!onnx || !card) {
      throw new MlflowError(
        `artifactFiles: no ${onnx ? MODEL_FILES.card : MODEL_FILES.onnx} to register as a model version (pass registerModel: false to log without registering)`,
      );
    }
    try {
      tags = versionTags(verifyModelPair(card.toString('utf8'), onnx, 'artifactFiles'));
    } catch (error) {
      throw new MlflowError(`refusing to register the model: ${(error as Error).message}`);
    }
  }
  const commit = input.gitCommit !== undefined ? input.gitCommit : await readGitCommit();
  const startMs = (input.startTime ?? new Date()).getTime();
  const planned = planLogBatches(input.params, input.metrics, input.tags ?? {}, Date.now());

  const experimentId = await getOrCreateExperiment(client, input.experimentName ?? DEFAULT_EXPERIMENT_NAME);
  const systemTags: KeyValue[] = [
    { key: 'mlflow.source.type', value: 'LOCAL' },
    { key: 'mlflow.source.name', value: input.sourceName ?? 'src/train/cli.ts' },
    { key: 'mlflow.user', value: safeUserName() },
  ];
  if (commit) systemTags.push({ key: 'mlflow.source.git.commit', value: commit });
  if (input.localRunId) systemTags.push({ key: 'local_run_id', value: input.localRunId });

  const run = await createRun(client, { experimentId, runName: input.runName, startTime: startMs, tags: systemTags });
  const runId = run.run_id;
  const artifactUri = run.artifact_uri;

  try {
    for (const body of planned) await logBatch(client, runId, body);
    if (artifacts.length > 0) {
      const root = proxiedArtifactPath(artifactUri);
      for (const artifact of artifacts) await uploadArtifact(client, root, artifact.artifactPath, artifact.bytes);
    }
    await endRun(client, runId, input.status ?? 'FINISHED');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    try {
      await endRun(client, runId, 'FAILED');
    } catch (markError) {
      throw new MlflowError(`${message}; also could not mark run ${runId} FAILED: ${(markError as Error).message}`);
    }
    throw error instanceof MlflowError ? error : new MlflowError(message);
  }

  let modelVersion: string | null = null;
  if (registerModel) {
    const name = input.registeredModelName ?? REGISTRY.modelName;
    if (commit) tags[REGISTRY.versionTags.gitCommit] = commit;
    try {
      const source = `${artifactUri.replace(/\/+$/, '')}/${REGISTRY.artifactPath}`;
      modelVersion = (await createModelVersion(client, { name, source, runId, tags })).version;
    } catch (error) {
      throw new MlflowError(`MLflow run ${runId} was logged, but registering model ${name} failed: ${(error as Error).message}`);
    }
  }

  return {
    experimentId,
    runId,
    artifactUri,
    modelVersion,
    runUrl: `${client.baseUrl}/#/experiments/${experimentId}/runs/${runId}`,
  };
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}
