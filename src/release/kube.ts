/** Kubeconfig loading and the API clients the deploy uses, with errors that say what is wrong with the file. */
import { readFileSync } from 'node:fs';
import { AppsV1Api, CoreV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { DeployError, describeKubeError } from './errors.js';

export interface KubeClients {
  kc: KubeConfig;
  server: string;
  /** The host the server's certificate is checked against: tls-server-name when set (a tunnelled kubeconfig), else the URL's. */
  serverHost: string;
  apps: AppsV1Api;
  core: CoreV1Api;
}

export function loadKubeConfig(file: string): KubeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DeployError('kubeconfig', `cannot read kubeconfig ${file}: ${(err as Error).message}`);
  }
  const kc = new KubeConfig();
  const bad = (why: string) => new DeployError('kubeconfig', `kubeconfig ${file} ${why}`);
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw bad(`is not a valid kubeconfig: ${(err as Error).message.split('\n')[0]}`);
  }
  const context = kc.getCurrentContext();
  if (!context) throw bad('has no current-context: write it with `kubectl config view --flatten --minify` and the right context selected');
  if (!kc.getContextObject(context)) throw bad(`names current-context "${context}", which is not among its contexts`);
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw bad(`has no cluster with a server address for the current context "${context}"`);
  if (!URL.canParse(server)) throw bad(`has a cluster server "${server}" that is not a URL`);
  if (!kc.getCurrentUser()) throw bad(`names no user for the current context "${context}"`);
  return kc;
}

export function makeClients(kc: KubeConfig): KubeClients {
  const cluster = kc.getCurrentCluster();
  const server = cluster?.server ?? '(unknown server)';
  try {
    return {
      kc,
      server,
      serverHost: cluster?.tlsServerName ?? new URL(server).hostname,
      apps: kc.makeApiClient(AppsV1Api),
      core: kc.makeApiClient(CoreV1Api),
    };
  } catch (err) {
    // Raised here for unusable credentials, e.g. a client-certificate file that does not exist.
    throw new DeployError('kubeconfig', `kubeconfig cannot be used: ${(err as Error).message}`);
  }
}

/** GET /version: proves the server is reachable (and TLS right) before Helm is started. */
export async function checkReachable(clients: KubeClients): Promise<string> {
  try {
    return (await clients.kc.makeApiClient(VersionApi).getCode()).gitVersion;
  } catch (err) {
    throw describeKubeError(err, clients.server, 'read the server version (GET /version)');
  }
}
