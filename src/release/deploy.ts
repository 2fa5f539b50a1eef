/**
 * The deploy as a Helm release: `helm upgrade --install --wait` while the watch API shows the rollout live; a
 * failure prints the failing pods' diagnostics and is undone with `helm rollback`, so `helm history` and the cluster
 * agree; a success is checked through the Service. An unchanged manifest is not upgraded at all (see README).
 */
import type { DeployOptions } from './args.js';
import { formatPodReports, podReports, reasonLine } from './diagnostics.js';
import { DeployError } from './errors.js';
import * as helm from './helm.js';
import { checkReachable, loadKubeConfig, makeClients } from './kube.js';
import { verifyServing } from './verify.js';
import { watchRollout, type RolloutWatch } from './watch.js';

export interface DeployResult {
  outcome: 'deployed' | 'unchanged';
  revision: number;
  modelVersion?: string;
  accessUrl?: string;
}

type Log = (line: string) => void;
const historyLine = (history: helm.HelmRevision[]) => history.map((h) => `${h.revision} ${h.status} (${h.description})`).join(', ');

/** Label the chart puts on the API's objects; its MLflow and PostgreSQL (optional) carry their own component. */
const API_COMPONENT = { key: 'app.kubernetes.io/component', value: 'api' };

/** The API's Deployment and Service the chart renders: what is watched, checked and printed. */
function workloadOf(objects: helm.KubeObject[]) {
  const api = (kind: string) =>
    objects.find((object) => object.kind === kind && object.metadata.labels?.[API_COMPONENT.key] === API_COMPONENT.value);
  const deployment = api('Deployment');
  const service = api('Service');
  if (!deployment || !service)
    throw new DeployError(
      'chart',
      `the chart must render the API's Deployment and Service (label ${API_COMPONENT.key}=${API_COMPONENT.value})`,
    );
  const labels = (deployment.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
  const nodePort = (service.spec as { ports?: Array<{ nodePort?: number }> }).ports?.[0]?.nodePort;
  const selector = Object.entries(labels).map(([key, value]) => `${key}=${value}`);
  return { deployment: deployment.metadata.name, selector: selector.join(','), service: service.metadata.name, nodePort };
}

/** helm (upgrade or rollback, both --wait) while the watch prints progress; the first verdict wins. Returns why it failed. */
async function rollOut(helmBin: string, args: string[], action: string, watch: RolloutWatch, timeoutMs: number) {
  const run = helm.startHelm(helmBin, args, action);
  const deploymentFailed = watch.failure().then((message) => ({ message }));
  deploymentFailed.catch(() => undefined);
  const first = await Promise.race([
    run.done.then(
      () => 'helm ok' as const,
      (err: unknown) => err,
    ),
    deploymentFailed,
  ]);
  if (first === 'helm ok') {
    const state = await watch.untilSettled(timeoutMs);
    return state.phase === 'done' ? undefined : state.message;
  }
  if (first instanceof DeployError && first.kind === 'rollout') return first.message; // helm's --timeout passed
  if (first instanceof Error) throw first;
  // The Deployment's own verdict came first: cancel helm's wait, so Helm records the revision as failed.
  run.cancel();
  await run.done.catch(() => undefined);
  return (first as { message: string }).message;
}

export async function deploy(options: DeployOptions, log: Log = (line) => console.log(line)): Promise<DeployResult> {
  const clients = makeClients(loadKubeConfig(options.kubeconfig));
  const kubeVersion = await checkReachable(clients);
  const { release, namespace, timeoutMs } = options;
  const target: helm.ReleaseTarget = { helm: helm.requireHelm(), kubeconfig: options.kubeconfig, namespace, release };
  const input = { chart: options.chart, valuesFiles: options.valuesFiles, timeoutMs, ...(options.image ? { image: options.image } : {}) };
  log(`Kubernetes ${kubeVersion} at ${clients.server}; Helm release ${release} in namespace ${namespace}`);

  const history = await helm.releaseHistory(target);
  const manifest = await helm.plannedManifest(target, input);
  const workload = workloadOf(helm.parseManifest(manifest));
  const [previous, latest] = [helm.deployedRevision(history), history.at(-1)];
  const accessUrl = workload.nodePort ? `http://${clients.serverHost}:${workload.nodePort}` : undefined;
  const watch = await watchRollout(clients, { namespace, deployment: workload.deployment, selector: workload.selector }, log);
  const verify = async () => {
    if (!options.verify) return undefined;
    const pods = watch.readyPods();
    const version = await verifyServing(clients.core, { namespace, service: workload.service, expected: options.modelVersion }, pods);
    log(`Service ${workload.service} answers GET /model with model ${version} (every ready pod, then through the Service)`);
    return version;
  };
  const result = (outcome: DeployResult['outcome'], revision: number, modelVersion?: string): DeployResult => ({
    outcome,
    revision,
    ...(modelVersion ? { modelVersion } : {}),
    ...(accessUrl ? { accessUrl } : {}),
  });
  try {
    if (latest?.status === 'deployed' && helm.sameManifest(await helm.releaseManifest(target, latest.revision), manifest)) {
      // helm upgrade would add a revision that changes nothing; the release and the cluster stay as they are.
      log(`Revision ${latest.revision} already has this manifest: no upgrade, no new revision. Release history: ${historyLine(history)}`);
      const state = await watch.untilSettled(timeoutMs);
      if (state.phase !== 'done')
        throw new DeployError('rollout', `revision ${latest.revision} is unchanged but not healthy: ${state.message}`);
      return result('unchanged', latest.revision, await verify());
    }

    log(previous ? `Upgrading from revision ${previous} (helm upgrade --install --wait):` : 'Installing (helm upgrade --install --wait):');
    let failure = await rollOut(target.helm, helm.upgradeArgs(target, input, 'wait'), 'helm upgrade', watch, timeoutMs);
    let modelVersion: string | undefined;
    try {
      if (!failure) modelVersion = await verify();
    } catch (err) {
      if (!(err instanceof DeployError) || err.kind !== 'rollout') throw err;
      failure = `the check through the Service failed: ${err.message}`;
    }
    const now = await helm.releaseHistory(target);
    if (!failure) {
      log(`Release history: ${historyLine(now)}`);
      if (accessUrl) log(`Access URL: ${accessUrl}  (try: curl ${accessUrl}/health)`);
      return result('deployed', now.at(-1)?.revision ?? 0, modelVersion);
    }

    log(`Rollout of revision ${now.at(-1)?.revision} failed: ${failure}`);
    const reports = await podReports(clients.core, namespace, watch.failingPods(), options.logLines);
    log(formatPodReports(reports));
    const why = `${failure.replace(/\.$/, '')}; ${reasonLine(reports)}`;
    if (!options.rollback)
      throw new DeployError('rollout', `${why}; left in place (--no-rollback); undo: helm rollback ${release} -n ${namespace}`);
    if (previous === undefined) {
      throw new DeployError(
        'rollout',
        `${why}; a first install has nothing to roll back to: it stays for inspection (helm uninstall ${release} -n ${namespace})`,
      );
    }
    log(`Rolling back to revision ${previous} (helm rollback --wait):`);
    watch.rebase();
    const rollbackFailure = await rollOut(target.helm, helm.rollbackArgs(target, previous, timeoutMs), 'helm rollback', watch, timeoutMs);
    const after = await helm.releaseHistory(target);
    log(`Release history: ${historyLine(after)}`);
    if (rollbackFailure) throw new DeployError('rollout', `${why}; the rollback to revision ${previous} failed too: ${rollbackFailure}`);
    throw new DeployError(
      'rollout',
      `${why}; rolled back to revision ${previous} (as revision ${after.at(-1)?.revision}), which is serving`,
    );
  } finally {
    await watch.stop();
  }
}
