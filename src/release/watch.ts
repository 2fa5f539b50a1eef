/**
 * Live rollout progress from the watch API: one ListWatch (client-node's list-then-watch cache) on the Deployment and
 * one on its pods, printing each change as it happens, and kubectl's rollout verdict on every Deployment event.
 * The verdict follows `kubectl rollout status` (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go):
 *   observedGeneration >= generation, else "waiting for spec update to be observed";
 *   Progressing condition with reason ProgressDeadlineExceeded -> failed;
 *   updatedReplicas < spec.replicas, old replicas left, or availableReplicas < updatedReplicas -> waiting; else done.
 */
import { ListWatch, Watch, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { describeKubeError, DeployError } from './errors.js';
import type { KubeClients } from './kube.js';
import { isReady, podState } from './diagnostics.js';

export type RolloutState = { phase: 'waiting' | 'done' | 'failed'; message: string };

export function deploymentRolloutState(deployment: V1Deployment): RolloutState {
  const name = deployment.metadata?.name ?? '';
  const status = deployment.status ?? {};
  if ((deployment.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { phase: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
  }
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  const deadline = progressing?.reason === 'ProgressDeadlineExceeded' ? `deployment "${name}" exceeded its progress deadline` : '';
  if (deadline) return { phase: 'failed', message: `${deadline}${progressing?.message ? `: ${progressing.message}` : ''}` };
  const [updated, replicas, available] = [status.updatedReplicas ?? 0, status.replicas ?? 0, status.availableReplicas ?? 0];
  const desired = deployment.spec?.replicas;
  const waiting = (why: string) =>
    ({ phase: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${why}...` }) as const;
  if (desired !== undefined && updated < desired) return waiting(`${updated} out of ${desired} new replicas have been updated`);
  if (replicas > updated) return waiting(`${replicas - updated} old replicas are pending termination`);
  if (available < updated) return waiting(`${available} of ${updated} updated replicas are available`);
  return { phase: 'done', message: `deployment "${name}" successfully rolled out` };
}

export interface WatchTarget {
  namespace: string;
  deployment: string;
  /** The Deployment's selector, as a label selector string. */
  selector: string;
}

export interface RolloutWatch {
  /** Settles with the message once the Deployment reports ProgressDeadlineExceeded for a spec newer than the baseline. */
  failure(): Promise<string>;
  /** kubectl's verdict once it is no longer "waiting", or a failure at the deadline. */
  untilSettled(timeoutMs: number): Promise<RolloutState>;
  /** Pods created since the watch started that are not ready, as last seen. */
  failingPods(): V1Pod[];
  /** Ready pods that are not terminating: after a finished rollout, exactly the new revision's. */
  readyPods(): V1Pod[];
  /** Makes the current spec the baseline (before a rollback, whose predecessor did fail). */
  rebase(): void;
  stop(): Promise<void>;
}

/** Starts watching; the spec seen now is the baseline: an old ProgressDeadlineExceeded is not this rollout's verdict. */
export async function watchRollout(clients: KubeClients, target: WatchTarget, log: (line: string) => void): Promise<RolloutWatch> {
  const { kc, apps, core } = clients;
  const { namespace, deployment: name, selector } = target;
  const byName = `metadata.name=${name}`;
  const listDeployment = () => apps.listNamespacedDeployment({ namespace, fieldSelector: byName });
  const deployments = new ListWatch<V1Deployment>(
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    new Watch(kc),
    listDeployment,
    false,
    undefined,
    byName,
  );
  const listPods = () => core.listNamespacedPod({ namespace, labelSelector: selector });
  const pods = new ListWatch<V1Pod>(`/api/v1/namespaces/${namespace}/pods`, new Watch(kc), listPods, false, selector);
  const [podStates, created, listeners] = [new Map<string, string>(), new Set<string>(), new Set<() => void>()];
  let [primed, stopped, failures, lastMessage] = [false, false, 0, ''];
  let fatal: DeployError | undefined;
  let baseline: number | undefined;
  const notify = () => listeners.forEach((listener) => listener());
  const current = () => deployments.get(name, namespace);
  /** The verdict, except a failure of a spec not newer than the baseline. */
  const verdict = () => {
    const deployment = current();
    const state = deployment && deploymentRolloutState(deployment);
    const newer = baseline === undefined || (deployment?.metadata?.generation ?? 0) > baseline;
    return state?.phase === 'failed' && !newer ? undefined : state;
  };
  const until = <T>(check: () => T | undefined) =>
    new Promise<T>((resolve, reject) => {
      const listener = () => {
        const value = fatal ? undefined : check();
        if (fatal || value !== undefined) listeners.delete(listener);
        if (fatal) reject(fatal);
        else if (value !== undefined) resolve(value);
      };
      listeners.add(listener);
      listener();
    });

  deployments.on('change', (deployment) => {
    const { message } = deploymentRolloutState(deployment);
    if (primed && message !== lastMessage) log(`  ${message}`);
    lastMessage = message;
    notify();
  });
  const onPod = (pod: V1Pod, added: boolean) => {
    const [podName, state] = [pod.metadata?.name ?? '', podState(pod)];
    if (added && primed) created.add(podName);
    if (primed && podStates.get(podName) !== state) log(`  pod ${podName}: ${state}`);
    podStates.set(podName, state);
  };
  pods.on('add', (pod) => onPod(pod, true));
  pods.on('update', (pod) => onPod(pod, false));
  pods.on('delete', (pod) => primed && log(`  pod ${pod.metadata?.name}: deleted`));
  for (const informer of [deployments, pods] as Array<ListWatch<V1Deployment | V1Pod>>) {
    // ListWatch reopens a watch the server closed; an error is retried after a second, five in all, not on the first list.
    informer.on('error', (err) => {
      if (stopped) return;
      if (primed && ++failures <= 5) return void setTimeout(() => void informer.start(), 1000);
      fatal = describeKubeError(err, clients.server, `watch the rollout in namespace ${namespace}`);
      notify();
    });
    await informer.start();
    if (fatal) throw fatal;
  }
  baseline = current()?.metadata?.generation;
  lastMessage = verdict()?.message ?? '';
  primed = true;

  const podList = () => pods.list(namespace);
  return {
    failure: () => until(() => (verdict()?.phase === 'failed' ? verdict()?.message : undefined)),
    async untilSettled(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = () => ({ phase: 'failed', message: `timed out waiting for the rollout: ${lastMessage}` }) as const;
      const timeout = new Promise<RolloutState>((resolve) => (timer = setTimeout(() => resolve(timedOut()), timeoutMs)));
      try {
        return await Promise.race([until(() => (verdict()?.phase === 'waiting' ? undefined : verdict())), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    failingPods: () => podList().filter((pod) => created.has(pod.metadata?.name ?? '') && !isReady(pod)),
    readyPods: () => podList().filter((pod) => isReady(pod) && !pod.metadata?.deletionTimestamp),
    rebase: () => void (baseline = current()?.metadata?.generation),
    async stop() {
      stopped = true;
      listeners.clear();
      await Promise.all([deployments.stop(), pods.stop()]);
    },
  };
}
