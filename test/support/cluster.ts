/**
 * Finds the project's single-node Kubernetes cluster (scripts/cluster/up.sh) for tests: its kubeconfig and what
 * up.sh recorded about it, or why it cannot be used and the script to run. Use with realComponent(), so a missing
 * cluster skips outside CI and fails in CI.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { repoRoot } from './paths.js';

/** What up.sh writes to $CLUSTER_DIR/cluster.json once the node, CoreDNS and the metrics API are ready. */
export interface ClusterInfo {
  kubeconfig: string;
  kubectl: string;
  containerdSocket: string;
  nodeName: string;
  nodeIP: string;
  kubernetesVersion: string;
  seconds: { nodeReady: number; corednsReady: number; metricsReady: number };
}

export type ClusterStatus = { available: true; info: ClusterInfo; kubeConfig: KubeConfig } | { available: false; reason: string };

export const CLUSTER_SCRIPTS = path.join(repoRoot, 'scripts/cluster');
const START_HINT =
  'start it as root: bash scripts/ci/install-cluster-deps.sh && bash scripts/cluster/build.sh && bash scripts/cluster/up.sh';

/** A value of scripts/cluster/config.sh (the one definition of the cluster's paths and versions). */
export function clusterConfig(name: string): string {
  return execFileSync('bash', ['-c', 'source "$1" && printf %s "${!2}"', 'cluster-config', path.join(CLUSTER_SCRIPTS, 'config.sh'), name], {
    encoding: 'utf8',
    env: process.env,
  });
}

/** Looks for a running cluster: its cluster.json, a readable kubeconfig, and an API server that answers. */
export async function findCluster(): Promise<ClusterStatus> {
  const infoFile = path.join(clusterConfig('CLUSTER_DIR'), 'cluster.json');
  if (!existsSync(infoFile)) return { available: false, reason: `no running cluster (${infoFile} is missing); ${START_HINT}` };
  let info: ClusterInfo;
  let kubeConfig: KubeConfig;
  try {
    info = JSON.parse(readFileSync(infoFile, 'utf8')) as ClusterInfo;
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(info.kubeconfig);
  } catch (err) {
    return {
      available: false,
      reason: `cannot read the cluster's ${infoFile} or its kubeconfig (${(err as Error).message}); ${START_HINT}`,
    };
  }
  try {
    await kubeConfig.makeApiClient(VersionApi).getCode();
  } catch (err) {
    return {
      available: false,
      reason: `the cluster in ${infoFile} does not answer (${(err as Error).message}); restart it: bash scripts/cluster/down.sh && bash scripts/cluster/up.sh`,
    };
  }
  return { available: true, info, kubeConfig };
}
