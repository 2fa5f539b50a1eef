/** Kubeconfig loading and the API clients the deploy uses, with errors that say what is wrong with the file. */
import { readFileSync } from 'node:fs';
import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, VersionApi } from '@kubernetes/client-node';
import { DeployError, describeKubeError } from './errors.js';

export interface KubeClients {
  server: string;
  objects: KubernetesObjectApi;
  apps: AppsV1Api;
  core: CoreV1Api;
  version: VersionApi;
}

export function loadKubeConfig(file: string): KubeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DeployError('kubeconfig', `cannot read kubeconfig ${file}: ${(err as Error).message}`);
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw new DeployError('kubeconfig', `kubeconfig ${file} is not a valid kubeconfig: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!kc.getCurrentContext()) {
    throw new DeployError(
      'kubeconfig',
      `kubeconfig ${file} has no current-context: run \`kubectl config view --flatten --minify > ${file}\` with the right context selected`,
    );
  }
  if (!kc.getContextObject(kc.getCurrentContext())) {
    throw new DeployError('kubeconfig', `kubeconfig ${file}: current-context "${kc.getCurrentContext()}" is not among its contexts`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new DeployError(
      'kubeconfig',
      `kubeconfig ${file}: the current context "${kc.getCurrentContext()}" names no cluster with a server address`,
    );
  }
  try {
    new URL(cluster.server);
  } catch {
    throw new DeployError('kubeconfig', `kubeconfig ${file}: cluster server "${cluster.server}" is not a URL`);
  }
  if (!kc.getCurrentUser()) {
    throw new DeployError('kubeconfig', `kubeconfig ${file}: the current context "${kc.getCurrentContext()}" names no user`);
  }
  return kc;
}

export function makeClients(kc: KubeConfig): KubeClients {
  const server = kc.getCurrentCluster()?.server ?? '(unknown server)';
  try {
    return {
      server,
      objects: KubernetesObjectApi.makeApiClient(kc),
      apps: kc.makeApiClient(AppsV1Api),
      core: kc.makeApiClient(CoreV1Api),
      version: kc.makeApiClient(VersionApi),
    };
  } catch (err) {
    // Raised here for unusable credentials, e.g. a client-certificate file that does not exist.
    throw new DeployError('kubeconfig', `kubeconfig cannot be used: ${(err as Error).message}`);
  }
}

/** GET /version: proves the server is reachable and the credentials work before anything is rendered or applied. */
export async function checkReachable(clients: KubeClients): Promise<string> {
  try {
    const info = await clients.version.getCode();
    return info.gitVersion;
  } catch (err) {
    throw describeKubeError(err, clients.server, 'read the server version (GET /version)');
  }
}
