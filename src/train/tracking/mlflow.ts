/**
 * Log a training run to an MLflow tracking server over its REST API (no SDK) and register the model.
 *
 *   logRunToMlflow(input: MlflowRunInput): Promise<MlflowRunResult>
 *     input = RunRecord (runName, params, metrics, tags?, artifactFiles?, startTime?, status?)
 *           & MlflowClientConfig (trackingUri, token?, username?, password?, timeoutMs?, fetchImpl?)
 *           & { experimentName? = 'heart-disease', registeredModelName? = 'heart-disease-risk',
 *               modelArtifact? = 'model.onnx', registerModel? = true, gitCommit?, localRunId?, sourceName? }
 *     result = { experimentId, runId, artifactUri, modelVersion: string | null, runUrl }
 *   planLogBatches(params, metrics, tags, timestampMs): LogBatchBody[]   // pure; respects MLflow batch limits
 *
 * Typical call from training:
 *   const env = mlflowConfigFromEnv();   // null when MLFLOW_TRACKING_URI is unset
 *   if (env) await logRunToMlflow({ ...env, ...record, gitCommit, localRunId: local.runId });
 *
 * Steps: get-or-create experiment by name → create run (tags incl. mlflow.source.git.commit) → log-batch params,
 * metrics, tags → upload artifacts through the server's artifact proxy (PUT /api/2.0/mlflow-artifacts/artifacts/…)
 * → end run (FINISHED, or the record's status) → create registered model if absent → create model version whose
 * source is `<run artifact_uri>/model.onnx`. Any failure throws an MlflowError with a one-line message; a run that
 * fails half-way is marked FAILED on the server first.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gitCommit as readGitCommit } from './git-info.js';
import { MlflowClient, MlflowError, type MlflowClientConfig } from './mlflow-client.js';
import { flattenMetrics, flattenParams, validateRunRecord, type MetricTree, type ParamTree, type RunRecord } from './run-record.js';

export { mlflowConfigFromEnv, MlflowError } from './mlflow-client.js';

export const DEFAULT_EXPERIMENT_NAME = 'heart-disease';
export const DEFAULT_REGISTERED_MODEL_NAME = 'heart-disease-risk';

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
  /** Base name of the artifact registered as the model version (default model.onnx). */
  modelArtifact?: string;
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

interface KeyValue {
  key: string;
  value: string;
}
interface MetricEntry {
  key: string;
  value: number;
  timestamp: number;
  step: number;
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

/** The path under /api/2.0/mlflow-artifacts/artifacts/ that holds a run's artifacts, from its artifact_uri. */
export function proxiedArtifactPath(artifactUri: string): string {
  const anchor = '/api/2.0/mlflow-artifacts/artifacts/';
  let url: URL;
  try {
    url = new URL(artifactUri);
  } catch {
    url = new URL('file:///');
  }
  if (url.protocol === 'mlflow-artifacts:') return url.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.pathname.includes(anchor)) {
    return url.pathname.split(anchor)[1]!.replace(/\/+$/, '');
  }
  throw new MlflowError(
    `MLflow run artifact_uri is ${artifactUri}, which the server does not proxy; start the server with --serve-artifacts and without a --default-artifact-root that points at a path only the server can see`,
  );
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

interface Experiment {
  experiment_id: string;
  name: string;
  lifecycle_stage?: string;
}
interface RunInfo {
  run_id: string;
  experiment_id: string;
  artifact_uri: string;
}
interface ModelVersion {
  version: string;
  status?: string;
  status_message?: string;
}

async function getOrCreateExperiment(client: MlflowClient, name: string): Promise<string> {
  const byName = async (): Promise<Experiment | null> => {
    try {
      const found = await client.call<{ experiment: Experiment }>(
        'get experiment',
        'GET',
        '/api/2.0/mlflow/experiments/get-by-name',
        new URLSearchParams({ experiment_name: name }),
      );
      return found.experiment;
    } catch (error) {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw error;
    }
  };
  let experiment = await byName();
  if (!experiment) {
    try {
      const created = await client.call<{ experiment_id: string }>('create experiment', 'POST', '/api/2.0/mlflow/experiments/create', {
        name,
      });
      return created.experiment_id;
    } catch (error) {
      // Another trainer created it between our two calls.
      if (!(error instanceof MlflowError && error.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw error;
      experiment = await byName();
      if (!experiment) throw error;
    }
  }
  if (experiment.lifecycle_stage === 'deleted') {
    throw new MlflowError(
      `MLflow experiment "${name}" (id ${experiment.experiment_id}) is deleted; restore it or set another experiment name`,
    );
  }
  return experiment.experiment_id;
}

async function registerModelVersion(client: MlflowClient, name: string, source: string, runId: string, tags: KeyValue[]): Promise<string> {
  try {
    await client.call('create registered model', 'POST', '/api/2.0/mlflow/registered-models/create', { name });
  } catch (error) {
    if (!(error instanceof MlflowError && error.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw error;
  }
  const created = await client.call<{ model_version: ModelVersion }>(
    'create model version',
    'POST',
    '/api/2.0/mlflow/model-versions/create',
    {
      name,
      source,
      run_id: runId,
      tags,
    },
  );
  let version = created.model_version;
  // Registries backed by remote storage may copy asynchronously; wait (bounded) until the version is usable.
  for (let attempt = 0; version.status === 'PENDING_REGISTRATION' && attempt < 60; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const got = await client.call<{ model_version: ModelVersion }>(
      'get model version',
      'GET',
      '/api/2.0/mlflow/model-versions/get',
      new URLSearchParams({ name, version: version.version }),
    );
    version = got.model_version;
  }
  if (version.status && version.status !== 'READY') {
    throw new MlflowError(
      `MLflow model ${name} version ${version.version} is ${version.status}: ${version.status_message ?? 'no message'}`,
    );
  }
  return version.version;
}

export async function logRunToMlflow(input: MlflowRunInput): Promise<MlflowRunResult> {
  if (!input.trackingUri)
    throw new MlflowError('MLflow: trackingUri is empty; set MLFLOW_TRACKING_URI to the http(s) address of an MLflow server');
  validateRunRecord(input);
  const client = new MlflowClient(input);
  const modelArtifact = input.modelArtifact ?? 'model.onnx';
  const registerModel = input.registerModel ?? true;
  const artifactFiles = input.artifactFiles ?? [];
  if (registerModel && !artifactFiles.some((f) => path.basename(f) === modelArtifact)) {
    throw new MlflowError(
      `artifactFiles: no ${modelArtifact} to register as a model version (pass registerModel: false to log without registering)`,
    );
  }
  // Read every artifact before touching the server, so a missing file cannot leave a half-logged run.
  const artifacts = await Promise.all(
    artifactFiles.map(async (file) => ({
      name: path.basename(file),
      bytes: await readFile(file).catch((error: NodeJS.ErrnoException) => {
        throw new MlflowError(`artifactFiles: cannot read ${file} (${error.code ?? error.message})`);
      }),
    })),
  );
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

  const created = await client.call<{ run: { info: RunInfo } }>('create run', 'POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: experimentId,
    run_name: input.runName,
    start_time: startMs,
    tags: systemTags,
  });
  const runId = created.run.info.run_id;
  const artifactUri = created.run.info.artifact_uri;

  try {
    for (const body of planned) await client.call('log batch', 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, ...body });
    if (artifacts.length > 0) {
      const root = proxiedArtifactPath(artifactUri);
      for (const artifact of artifacts) {
        await client.putArtifact(
          `upload ${artifact.name}`,
          `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${root}/${artifact.name}`)}`,
          artifact.bytes,
        );
      }
    }
    await client.call('end run', 'POST', '/api/2.0/mlflow/runs/update', {
      run_id: runId,
      status: input.status ?? 'FINISHED',
      end_time: Date.now(),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    try {
      await client.call('mark run failed', 'POST', '/api/2.0/mlflow/runs/update', {
        run_id: runId,
        status: 'FAILED',
        end_time: Date.now(),
      });
    } catch (markError) {
      throw new MlflowError(`${message}; also could not mark run ${runId} FAILED: ${(markError as Error).message}`);
    }
    throw error instanceof MlflowError ? error : new MlflowError(message);
  }

  let modelVersion: string | null = null;
  if (registerModel) {
    const name = input.registeredModelName ?? DEFAULT_REGISTERED_MODEL_NAME;
    const versionTags: KeyValue[] = commit ? [{ key: 'git_commit', value: commit }] : [];
    try {
      modelVersion = await registerModelVersion(client, name, `${artifactUri.replace(/\/+$/, '')}/${modelArtifact}`, runId, versionTags);
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
