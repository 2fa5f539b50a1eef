/**
 * Experiments and runs over MLflow's REST API.
 *
 *   getOrCreateExperiment(client, name): Promise<string>                  // experiment id; refuses a deleted one
 *   createRun(client, { experimentId, runName, startTime?, tags? }): Promise<RunInfo>
 *   logBatch(client, runId, { params?, metrics?, tags? }): Promise<void>  // one request; callers respect the limits
 *   setRunTags(client, runId, tags): Promise<void>                        // via log-batch, ≤ 100 per request
 *   endRun(client, runId, status): Promise<void>                          // FINISHED | FAILED | KILLED, end time now
 *   getRun(client, runId): Promise<Run>
 *   getExperimentId(client, name): Promise<string | null>                 // null when there is no such experiment
 *   searchRuns(client, { experimentIds, filter?, orderBy?, maxResults? }): Promise<Run[]>   // one page
 */
import { MlflowError, type MlflowClient } from './client.js';

export interface KeyValue {
  key: string;
  value: string;
}
export interface MetricEntry {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface RunInfo {
  run_id: string;
  experiment_id: string;
  artifact_uri: string;
  status?: string;
  run_name?: string;
  start_time?: number;
}
export interface Run {
  info: RunInfo;
  data: { params?: KeyValue[]; metrics?: Array<{ key: string; value: number }>; tags?: KeyValue[] };
}
export type RunEndStatus = 'FINISHED' | 'FAILED' | 'KILLED';

interface Experiment {
  experiment_id: string;
  name: string;
  lifecycle_stage?: string;
}

const TAGS_PER_BATCH = 100;

export async function getOrCreateExperiment(client: MlflowClient, name: string): Promise<string> {
  const byName = () => findExperiment(client, name);
  let experiment = await byName();
  if (!experiment) {
    try {
      const created = await client.call<{ experiment_id: string }>('create experiment', 'POST', '/api/2.0/mlflow/experiments/create', {
        name,
      });
      return created.experiment_id;
    } catch (error) {
      // Another client created it between our two calls.
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

export async function createRun(
  client: MlflowClient,
  run: { experimentId: string; runName: string; startTime?: number; tags?: KeyValue[] },
): Promise<RunInfo> {
  const created = await client.call<{ run: { info: RunInfo } }>('create run', 'POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: run.experimentId,
    run_name: run.runName,
    start_time: run.startTime ?? Date.now(),
    tags: run.tags ?? [],
  });
  return created.run.info;
}

export async function logBatch(
  client: MlflowClient,
  runId: string,
  batch: { params?: KeyValue[]; metrics?: MetricEntry[]; tags?: KeyValue[] },
): Promise<void> {
  await client.call('log batch', 'POST', '/api/2.0/mlflow/runs/log-batch', {
    run_id: runId,
    params: batch.params ?? [],
    metrics: batch.metrics ?? [],
    tags: batch.tags ?? [],
  });
}

export async function setRunTags(client: MlflowClient, runId: string, tags: Record<string, string>): Promise<void> {
  const entries = Object.entries(tags).map(([key, value]) => ({ key, value }));
  for (let i = 0; i < entries.length; i += TAGS_PER_BATCH) await logBatch(client, runId, { tags: entries.slice(i, i + TAGS_PER_BATCH) });
}

export async function endRun(client: MlflowClient, runId: string, status: RunEndStatus): Promise<void> {
  await client.call(`mark run ${status}`, 'POST', '/api/2.0/mlflow/runs/update', { run_id: runId, status, end_time: Date.now() });
}

export async function getRun(client: MlflowClient, runId: string): Promise<Run> {
  const got = await client.call<{ run: Run }>('get run', 'GET', '/api/2.0/mlflow/runs/get', new URLSearchParams({ run_id: runId }));
  return got.run;
}

/** The experiment of this name, or null when there is none. */
async function findExperiment(client: MlflowClient, name: string): Promise<Experiment | null> {
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
}

export async function getExperimentId(client: MlflowClient, name: string): Promise<string | null> {
  return (await findExperiment(client, name))?.experiment_id ?? null;
}

/** One page of runs matching MLflow's search syntax, e.g. filter "tags.retrain = 'true'", orderBy ['attributes.start_time DESC']. */
export async function searchRuns(
  client: MlflowClient,
  query: { experimentIds: string[]; filter?: string; orderBy?: string[]; maxResults?: number },
): Promise<Run[]> {
  const found = await client.call<{ runs?: Run[] }>('search runs', 'POST', '/api/2.0/mlflow/runs/search', {
    experiment_ids: query.experimentIds,
    filter: query.filter ?? '',
    order_by: query.orderBy ?? [],
    max_results: query.maxResults ?? 100,
  });
  return found.runs ?? [];
}
