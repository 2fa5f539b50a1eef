/** Chart rendering by the real `helm template` binary; objects come back parsed and in install order. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ImageRef } from './args.js';
import { DeployError } from './errors.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface RenderRequest {
  chart: string;
  release: string;
  namespace: string;
  valuesFiles: string[];
  image?: ImageRef;
  /** The cluster's version (GET /version), so the chart's kubeVersion check and .Capabilities see the real one. */
  kubeVersion?: string;
}

/** HELM_BIN, else `helm` on PATH, else where `go install helm.sh/helm/v3/cmd/helm` puts it. */
export function findHelm(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.HELM_BIN) return existsSync(env.HELM_BIN) ? env.HELM_BIN : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'helm'))) return path.join(dir, 'helm');
  }
  const goBin = path.join(env.GOBIN ?? path.join(env.GOPATH ?? path.join(os.homedir(), 'go'), 'bin'), 'helm');
  return existsSync(goBin) ? goBin : undefined;
}

/** `--set-string` keeps numeric-looking tags ("1.10") strings. */
export function helmTemplateArgs(req: RenderRequest): string[] {
  const args = ['template', req.release, req.chart, '--namespace', req.namespace];
  if (req.kubeVersion) args.push('--kube-version', req.kubeVersion);
  for (const file of req.valuesFiles) args.push('--values', file);
  if (req.image) {
    args.push('--set-string', `image.repository=${req.image.repository}`);
    if (req.image.tag) args.push('--set-string', `image.tag=${req.image.tag}`);
    args.push('--set-string', `image.digest=${req.image.digest ?? ''}`);
  }
  return args;
}

// Helm's own install order (pkg/release/util/kind_sorter.go), for the kinds this chart renders.
const INSTALL_ORDER = [
  'Namespace',
  'NetworkPolicy',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'Service',
  'Deployment',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'Ingress',
];

export function sortForInstall(objects: KubeObject[]): KubeObject[] {
  const rank = (kind: string) => {
    const index = INSTALL_ORDER.indexOf(kind);
    return index === -1 ? INSTALL_ORDER.length : index;
  };
  return objects
    .map((object, index) => ({ object, index }))
    .sort((a, b) => rank(a.object.kind) - rank(b.object.kind) || a.index - b.index)
    .map(({ object }) => object);
}

/** Multi-document YAML from `helm template` -> objects; empty documents dropped, every object checked for identity. */
export function parseManifests(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new DeployError('render', `helm template produced invalid YAML: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const object = value as Partial<KubeObject>;
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string') {
      throw new DeployError(
        'render',
        `helm template produced a document without apiVersion/kind/metadata.name: ${JSON.stringify(value).slice(0, 200)}`,
      );
    }
    objects.push(object as KubeObject);
  }
  return objects;
}

export function renderChart(req: RenderRequest, env: NodeJS.ProcessEnv = process.env): KubeObject[] {
  const helm = findHelm(env);
  if (!helm) {
    throw new DeployError(
      'render',
      'helm is not installed: the chart is rendered by `helm template`. Install it (bash scripts/ci/install-helm.sh, or any Helm v3) or point HELM_BIN at the binary.',
    );
  }
  const result = spawnSync(helm, helmTemplateArgs(req), { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  if (result.error) throw new DeployError('render', `could not run ${helm}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new DeployError('render', `helm template failed (exit ${result.status}): ${result.stderr.trim()}`);
  }
  return sortForInstall(parseManifests(result.stdout));
}
