/**
 * Acting on drift: retrain when the API's drift status is at least a level, enough labelled rows arrived since the
 * last retraining, and the cool-down after that retraining has passed.
 *
 *   triggerDecision(facts, policy) → TriggerDecision        // pure
 *   readDriftStatus(apiUrl) → { status, sampleCount }
 *   lastRetrainTime(client, experimentName) → ms | null      // the newest retrain run in MLflow (no local state)
 *
 * The last retraining is read from MLflow (runs tagged RETRAIN_TAGS.kind), not from a local file, so a CronJob pod
 * that starts afresh each time still knows it.
 */
import { MlflowClient } from '../mlflow/client.js';
import { getExperimentId, searchRuns } from '../mlflow/runs.js';
import { DRIFT_LEVELS } from './options.js';
import { RETRAIN_TAGS } from './retrain.js';

export type TriggerLevel = (typeof DRIFT_LEVELS)[number];

export interface TriggerFacts {
  /** /drift/status's status: ok | warning | drift | refused. */
  drift: string;
  labels: number;
  /** Start of the last retraining (ms since the epoch), null when there was none. */
  lastRetrainMs: number | null;
  nowMs: number;
}

export interface TriggerPolicy {
  level: TriggerLevel;
  minLabels: number;
  cooldownS: number;
}

export type TriggerDecision =
  { retrain: true; reason: string } | { retrain: false; reason: 'cooldown' | 'no-drift' | 'too-few-labels'; detail: string };

/** ok < warning < drift; `refused` (most traffic refused by validation) is a data-quality alarm, not drift. */
const RANK: Record<string, number> = { ok: 0, warning: 1, drift: 2 };

export function triggerDecision(facts: TriggerFacts, policy: TriggerPolicy): TriggerDecision {
  if (facts.lastRetrainMs !== null) {
    const until = facts.lastRetrainMs + policy.cooldownS * 1000;
    if (facts.nowMs < until) {
      return {
        retrain: false,
        reason: 'cooldown',
        detail: `last retraining ${new Date(facts.lastRetrainMs).toISOString()}; cool-down of ${policy.cooldownS} s lasts until ${new Date(until).toISOString()}`,
      };
    }
  }
  if ((RANK[facts.drift] ?? -1) < RANK[policy.level]!) {
    return { retrain: false, reason: 'no-drift', detail: `drift status ${facts.drift} is below ${policy.level}` };
  }
  if (facts.labels < policy.minLabels) {
    return {
      retrain: false,
      reason: 'too-few-labels',
      detail: `${facts.labels} labelled rows since the last retraining, ${policy.minLabels} needed`,
    };
  }
  return { retrain: true, reason: `drift status ${facts.drift} ≥ ${policy.level} and ${facts.labels} labelled rows ≥ ${policy.minLabels}` };
}

export async function readDriftStatus(apiUrl: string): Promise<{ status: string; sampleCount: number }> {
  const url = `${apiUrl.replace(/\/+$/, '')}/drift/status`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new Error(`${url} is unreachable (${cause}); is --api-url right?`, { cause: error });
  }
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  const body = (await response.json()) as { status?: unknown; sampleCount?: unknown };
  if (typeof body.status !== 'string') throw new Error(`${url} answered without a status: not the heart-disease API?`);
  return { status: body.status, sampleCount: typeof body.sampleCount === 'number' ? body.sampleCount : 0 };
}

export async function lastRetrainTime(client: MlflowClient, experimentName: string): Promise<number | null> {
  const experimentId = await getExperimentId(client, experimentName);
  if (experimentId === null) return null;
  const [run] = await searchRuns(client, {
    experimentIds: [experimentId],
    filter: `tags.\`${RETRAIN_TAGS.kind}\` = 'true'`,
    orderBy: ['attributes.start_time DESC'],
    maxResults: 1,
  });
  return run?.info.start_time === undefined ? null : Number(run.info.start_time);
}
