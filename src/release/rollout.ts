/**
 * Rollout status decided exactly as `kubectl rollout status` does for a Deployment
 * (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go, DeploymentStatusViewer.Status):
 *   observedGeneration >= generation, else "waiting for spec update to be observed";
 *   then Progressing condition with reason ProgressDeadlineExceeded -> failure;
 *   updatedReplicas < spec.replicas -> waiting; status.replicas > updatedReplicas (old pods left) -> waiting;
 *   availableReplicas < updatedReplicas -> waiting; else done.
 */
import type { AppsV1Api, V1Deployment } from '@kubernetes/client-node';
import { describeKubeError } from './errors.js';

export type RolloutState =
  { phase: 'waiting'; message: string } | { phase: 'done'; message: string } | { phase: 'failed'; message: string };

export interface DeploymentLike {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: Array<{ type: string; reason?: string; message?: string }>;
  };
}

export function deploymentRolloutState(deployment: DeploymentLike): RolloutState {
  const name = deployment.metadata?.name ?? '';
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  if (generation > (status.observedGeneration ?? 0)) {
    return { phase: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
  }
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      phase: 'failed',
      message: `deployment "${name}" exceeded its progress deadline${progressing.message ? `: ${progressing.message}` : ''}`,
    };
  }
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const desired = deployment.spec?.replicas;
  if (desired !== undefined && updated < desired) {
    return {
      phase: 'waiting',
      message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${desired} new replicas have been updated...`,
    };
  }
  if (replicas > updated) {
    return {
      phase: 'waiting',
      message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`,
    };
  }
  if (available < updated) {
    return {
      phase: 'waiting',
      message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`,
    };
  }
  return { phase: 'done', message: `deployment "${name}" successfully rolled out` };
}

export interface WaitOptions {
  namespace: string;
  name: string;
  timeoutMs: number;
  pollIntervalMs: number;
  server: string;
  log: (line: string) => void;
}

export type WaitResult =
  { ok: true; message: string; deployment: V1Deployment } | { ok: false; message: string; deployment?: V1Deployment };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the Deployment until kubectl's verdict is done or failed, or the timeout passes (a failure too). */
export async function waitForRollout(apps: AppsV1Api, options: WaitOptions): Promise<WaitResult> {
  const deadline = Date.now() + options.timeoutMs;
  let lastMessage = '';
  let deployment: V1Deployment | undefined;
  for (;;) {
    try {
      deployment = await apps.readNamespacedDeployment({ name: options.name, namespace: options.namespace });
    } catch (err) {
      throw describeKubeError(err, options.server, `read Deployment/${options.name}`);
    }
    const state = deploymentRolloutState(deployment);
    if (state.message !== lastMessage) {
      options.log(state.message);
      lastMessage = state.message;
    }
    if (state.phase === 'done') return { ok: true, message: state.message, deployment };
    if (state.phase === 'failed') return { ok: false, message: state.message, deployment };
    if (Date.now() + options.pollIntervalMs > deadline) {
      return {
        ok: false,
        message: `timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for deployment "${options.name}": ${state.message}`,
        deployment,
      };
    }
    await sleep(options.pollIntervalMs);
  }
}
