/** The deploy: render -> server-side apply -> wait like `kubectl rollout status` -> on failure diagnose and undo. */
import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { FIELD_MANAGER, type DeployOptions } from './args.js';

// The undo is an Update, not an Apply: its own manager name shows it in managedFields; the next apply (force) takes the fields back.
const ROLLBACK_FIELD_MANAGER = `${FIELD_MANAGER}-rollback`;
import { applyObject, inNamespace, objectRef, type AppliedObject } from './apply.js';
import { failingPodReports, formatPodReports } from './diagnostics.js';
import { DeployError, describeKubeError } from './errors.js';
import {
  POD_TEMPLATE_HASH,
  latestAndPrevious,
  ownedReplicaSets,
  revisionOf,
  rollbackPatch,
  sameTemplateIgnoringHash,
  selectorString,
} from './history.js';
import { checkReachable, loadKubeConfig, makeClients, type KubeClients } from './kube.js';
import { renderChart, type KubeObject, type RenderRequest } from './render.js';
import { waitForRollout } from './rollout.js';

export interface DeployResult {
  outcome: 'deployed' | 'unchanged';
  applied: AppliedObject[];
  revision?: number;
  accessUrl?: string;
}

export interface DeployDeps {
  render: (req: RenderRequest) => KubeObject[];
  log: (line: string) => void;
}

const defaultDeps: DeployDeps = { render: (req) => renderChart(req), log: (line) => console.log(line) };

async function ensureNamespace(clients: KubeClients, namespace: string, log: (line: string) => void): Promise<void> {
  try {
    await clients.core.readNamespace({ name: namespace });
    return;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // A namespace-scoped user may not read namespaces; the applies below will tell if the namespace is missing.
    if (code === 403) return;
    if (code !== 404) throw describeKubeError(err, clients.server, `read namespace ${namespace}`);
  }
  const applied = await applyObject(clients.objects, clients.server, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  log(`namespace/${namespace} ${applied.outcome}`);
}

function accessUrl(server: string, objects: KubeObject[]): string | undefined {
  const service = objects.find((object) => object.kind === 'Service');
  const spec = service?.spec as { type?: string; ports?: Array<{ nodePort?: number }> } | undefined;
  const nodePort = spec?.ports?.[0]?.nodePort;
  if (spec?.type !== 'NodePort' || !nodePort) return undefined;
  // Minikube and kind-like single-node clusters: the node address is the API server's host.
  return `http://${new URL(server).hostname}:${nodePort}`;
}

async function readDeployment(clients: KubeClients, namespace: string, name: string): Promise<V1Deployment> {
  try {
    return await clients.apps.readNamespacedDeployment({ name, namespace });
  } catch (err) {
    throw describeKubeError(err, clients.server, `read Deployment/${name}`);
  }
}

async function replicaSetsOf(clients: KubeClients, deployment: V1Deployment) {
  const namespace = deployment.metadata?.namespace ?? '';
  try {
    const list = await clients.apps.listNamespacedReplicaSet({
      namespace,
      labelSelector: selectorString(deployment.spec?.selector.matchLabels),
    });
    return ownedReplicaSets(deployment, list.items);
  } catch (err) {
    throw describeKubeError(err, clients.server, `list ReplicaSets in namespace ${namespace}`);
  }
}

/** Failing pods of the newest revision, with events and last log lines, printed before the undo. */
async function printDiagnostics(clients: KubeClients, deployment: V1Deployment, options: DeployOptions, log: (line: string) => void) {
  const { latest } = latestAndPrevious(await replicaSetsOf(clients, deployment));
  const hash = latest?.metadata?.labels?.[POD_TEMPLATE_HASH];
  if (!latest || !hash) {
    log('No ReplicaSet for the new revision was found; nothing to diagnose.');
    return;
  }
  const selector = `${selectorString(deployment.spec?.selector.matchLabels)},${POD_TEMPLATE_HASH}=${hash}`;
  log(`Failing pods of revision ${revisionOf(latest)} (ReplicaSet ${latest.metadata?.name}):`);
  try {
    log(formatPodReports(await failingPodReports(clients.core, options.namespace, selector, options.logLines)));
  } catch (err) {
    log(`(pods could not be listed: ${describeKubeError(err, clients.server, 'list pods').message})`);
  }
}

/** `kubectl rollout undo`: previous ReplicaSet's template back into the Deployment with a JSON patch. */
async function rollBack(clients: KubeClients, deployment: V1Deployment, log: (line: string) => void): Promise<number> {
  const name = deployment.metadata?.name ?? '';
  const { previous } = latestAndPrevious(await replicaSetsOf(clients, deployment));
  if (!previous?.spec?.template) {
    throw new DeployError('rollout', `no previous revision of deployment "${name}" to roll back to (first deployment?); it is left as is`);
  }
  const target = revisionOf(previous) ?? 0;
  if (deployment.spec?.template && sameTemplateIgnoringHash(deployment.spec.template, previous.spec.template)) {
    log(`skipped rollback (current template already matches revision ${target})`);
    return target;
  }
  try {
    await clients.apps.patchNamespacedDeployment(
      {
        name,
        namespace: deployment.metadata?.namespace ?? '',
        body: rollbackPatch(deployment, previous),
        fieldManager: ROLLBACK_FIELD_MANAGER,
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
  } catch (err) {
    throw describeKubeError(err, clients.server, `roll back Deployment/${name}`);
  }
  log(`deployment.apps/${name} rolled back to revision ${target}`);
  return target;
}

export async function deploy(options: DeployOptions, deps: DeployDeps = defaultDeps): Promise<DeployResult> {
  const { log } = deps;
  const kubeConfig = loadKubeConfig(options.kubeconfig);
  const clients = makeClients(kubeConfig);
  const version = await checkReachable(clients);
  log(`Kubernetes ${version} at ${clients.server}, namespace ${options.namespace}`);

  const rendered = deps.render({
    chart: options.chart,
    release: options.release,
    namespace: options.namespace,
    valuesFiles: options.valuesFiles,
    kubeVersion: version,
    ...(options.image ? { image: options.image } : {}),
  });
  const objects = inNamespace(rendered, options.namespace);
  const deploymentObject = objects.find((object) => object.kind === 'Deployment');
  if (!deploymentObject) throw new DeployError('render', 'the rendered chart contains no Deployment');

  await ensureNamespace(clients, options.namespace, log);
  const applied: AppliedObject[] = [];
  for (const object of objects) {
    const result = await applyObject(clients.objects, clients.server, object);
    log(
      `${objectRef(object).toLowerCase()} ${result.outcome} (resourceVersion ${result.resourceVersion}${result.generation !== undefined ? `, generation ${result.generation}` : ''})`,
    );
    applied.push(result);
  }

  const name = deploymentObject.metadata.name;
  const rollout = {
    namespace: options.namespace,
    name,
    timeoutMs: options.timeoutMs,
    pollIntervalMs: options.pollIntervalMs,
    server: clients.server,
    log,
  };
  const waited = await waitForRollout(clients.apps, rollout);
  const url = accessUrl(clients.server, objects);
  const unchanged = applied.every((result) => result.outcome === 'unchanged');
  if (waited.ok) {
    const revision = revisionOf(waited.deployment);
    if (url) log(`Access URL: ${url}  (try: curl ${url}/health)`);
    return {
      outcome: unchanged ? 'unchanged' : 'deployed',
      applied,
      ...(revision !== undefined ? { revision } : {}),
      ...(url ? { accessUrl: url } : {}),
    };
  }

  log(`Rollout failed: ${waited.message}`);
  const failed = waited.deployment ?? (await readDeployment(clients, options.namespace, name));
  await printDiagnostics(clients, failed, options, log);
  if (!options.rollback) throw new DeployError('rollout', `${waited.message} (rollback disabled by --no-rollback)`);
  const target = await rollBack(clients, await readDeployment(clients, options.namespace, name), log);
  const restored = await waitForRollout(clients.apps, rollout);
  if (!restored.ok) {
    throw new DeployError('rollout', `${waited.message}; the rollback to revision ${target} did not finish either: ${restored.message}`);
  }
  throw new DeployError('rollout', `${waited.message}; rolled back to revision ${target}, which is serving again`);
}
