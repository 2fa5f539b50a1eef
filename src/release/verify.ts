/**
 * The post-rollout check: the model version answering through the Service is the one just deployed. Requests go
 * through the API server's proxy (pods/<name>:<port>/proxy/model, services/<name>:http/proxy/model), so the check
 * works wherever the kubeconfig works, NodePort or not. The API server picks a ready endpoint at random for each
 * Service request, so a run of identical answers covers every pod behind it.
 */
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { DeployError } from './errors.js';

/** Name the chart gives the API's port, on the container and on the Service. */
const PORT_NAME = 'http';
const TIMEOUT_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function versionOf(body: unknown): string {
  const card = (typeof body === 'string' ? JSON.parse(body) : body) as { modelVersion?: unknown };
  if (typeof card.modelVersion !== 'string')
    throw new Error(`GET /model answered without modelVersion: ${JSON.stringify(body).slice(0, 120)}`);
  return card.modelVersion;
}

/** GET /model of one pod through the pod proxy, which takes the port by number. */
async function podModelVersion(core: CoreV1Api, pod: V1Pod): Promise<string> {
  const port = pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === PORT_NAME)?.containerPort;
  const name = `${pod.metadata?.name}${port ? `:${port}` : ''}`;
  return versionOf(await core.connectGetNamespacedPodProxyWithPath({ name, namespace: pod.metadata?.namespace ?? '', path: 'model' }));
}

/**
 * Every ready pod must serve `expected` (default: what the first one serves), then the Service must answer with it
 * 3 times per pod in a row (at least 5) within 30 s. Returns the version.
 */
export async function verifyServing(
  core: CoreV1Api,
  target: { namespace: string; service: string; expected?: string | undefined },
  pods: V1Pod[],
) {
  const served = await Promise.all(pods.map((pod) => podModelVersion(core, pod).catch((err: Error) => `(${err.message})`)));
  const expected = target.expected ?? served[0];
  const wrong = Math.max(
    served.findIndex((version) => version !== expected),
    0,
  );
  if (!expected || served[wrong] !== expected) {
    const pod = pods[wrong]?.metadata?.name ?? '(no ready pod)';
    throw new DeployError('rollout', `pod ${pod} serves model ${served[wrong] ?? '(none)'}, expected ${expected ?? 'a model version'}`);
  }
  const [samples, deadline] = [Math.max(5, 3 * pods.length), Date.now() + TIMEOUT_MS];
  const request = { name: `${target.service}:${PORT_NAME}`, namespace: target.namespace, path: 'model' };
  for (let inARow = 0; ;) {
    let last: string;
    try {
      last = versionOf(await core.connectGetNamespacedServiceProxyWithPath(request));
    } catch (err) {
      last = `error: ${String((err as { body?: unknown }).body ?? (err as Error).message).split('\n')[0]}`;
    }
    inARow = last === expected ? inARow + 1 : 0;
    if (inARow >= samples) return expected;
    if (Date.now() > deadline) {
      throw new DeployError(
        'rollout',
        `Service ${target.service} did not answer with model ${expected} ${samples} times in a row within 30 s; last answer: ${last}`,
      );
    }
    await sleep(inARow > 0 ? 50 : 1000);
  }
}
