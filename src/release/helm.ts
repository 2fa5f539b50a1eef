/**
 * The helm binary, run as a child process: release history, a server-side dry run of the upgrade (the manifest Helm
 * would apply), `helm upgrade --install --wait` and `helm rollback --wait`. Helm owns install order, three-way merge,
 * release records and rollback; this module only builds the arguments and reads the answers.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ImageRef } from './args.js';
import { DeployError, describeHelmError } from './errors.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** One entry of `helm history -o json`. */
export interface HelmRevision {
  revision: number;
  status: string;
  description: string;
}

export interface ReleaseTarget {
  helm: string;
  kubeconfig: string;
  namespace: string;
  release: string;
}

export interface ChartInput {
  chart: string;
  valuesFiles: string[];
  image?: ImageRef;
  timeoutMs: number;
}

export interface HelmRun {
  /** Settles when helm exits; rejects with a DeployError when it exits non-zero. */
  done: Promise<string>;
  /** SIGTERM: helm cancels its wait and records the release as failed ("context canceled"). */
  cancel(): void;
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

export function requireHelm(env: NodeJS.ProcessEnv = process.env): string {
  const helm = findHelm(env);
  if (helm) return helm;
  throw new DeployError('chart', 'helm is not installed: install any Helm v3 (bash scripts/ci/install-helm.sh) or point HELM_BIN at it');
}

const targetArgs = (t: ReleaseTarget) => ['--kubeconfig', t.kubeconfig, '--namespace', t.namespace];

/** `helm upgrade --install` arguments; `--set-string` keeps numeric-looking tags ("1.10") strings. */
export function upgradeArgs(t: ReleaseTarget, input: ChartInput, mode: 'dry-run' | 'wait'): string[] {
  const args = ['upgrade', '--install', t.release, input.chart, ...targetArgs(t), '--create-namespace', '--reset-values'];
  for (const file of input.valuesFiles) args.push('--values', file);
  if (input.image) {
    args.push('--set-string', `image.repository=${input.image.repository}`);
    if (input.image.tag) args.push('--set-string', `image.tag=${input.image.tag}`);
    args.push('--set-string', `image.digest=${input.image.digest ?? ''}`);
  }
  // The server-side dry run renders with the cluster's real capabilities, exactly as the upgrade will.
  if (mode === 'dry-run') return [...args, '--dry-run=server', '--output', 'json'];
  return [...args, '--wait', '--timeout', `${Math.ceil(input.timeoutMs / 1000)}s`];
}

export function rollbackArgs(t: ReleaseTarget, revision: number, timeoutMs: number): string[] {
  return ['rollback', t.release, String(revision), ...targetArgs(t), '--wait', '--timeout', `${Math.ceil(timeoutMs / 1000)}s`];
}

export function startHelm(helm: string, args: string[], action: string): HelmRun {
  const child = spawn(helm, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', (err) => reject(new DeployError('chart', `could not run ${helm}: ${err.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(describeHelmError(stderr, action))));
  });
  return { done, cancel: () => child.exitCode === null && child.kill('SIGTERM') };
}

const runHelm = (t: ReleaseTarget, args: string[], action: string) => startHelm(t.helm, args, action).done;

/** Every revision of the release, oldest first; none when it was never installed. */
export async function releaseHistory(t: ReleaseTarget): Promise<HelmRevision[]> {
  try {
    return JSON.parse(await runHelm(t, ['history', t.release, ...targetArgs(t), '--output', 'json'], 'helm history')) as HelmRevision[];
  } catch (err) {
    if (err instanceof DeployError && /release: not found/.test(err.message)) return [];
    throw err;
  }
}

export const deployedRevision = (history: HelmRevision[]) => history.filter((entry) => entry.status === 'deployed').pop()?.revision;

export async function releaseManifest(t: ReleaseTarget, revision: number): Promise<string> {
  return runHelm(t, ['get', 'manifest', t.release, ...targetArgs(t), '--revision', String(revision)], 'helm get manifest');
}

/** The manifest `helm upgrade --install` would apply now. */
export async function plannedManifest(t: ReleaseTarget, input: ChartInput): Promise<string> {
  const release = JSON.parse(await runHelm(t, upgradeArgs(t, input, 'dry-run'), 'helm upgrade --dry-run')) as { manifest?: string };
  return release.manifest ?? '';
}

/** Same objects in the same order: Helm would change nothing but add a revision. */
export const sameManifest = (a: string, b: string) => a.trim() === b.trim();

/** Multi-document YAML (helm template, helm get manifest) -> objects; empty documents dropped. */
export function parseManifest(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new DeployError('chart', `the chart rendered invalid YAML: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as Partial<KubeObject> | null;
    if (value === null || value === undefined) continue;
    if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || typeof value.metadata?.name !== 'string') {
      throw new DeployError(
        'chart',
        `the chart rendered an object without apiVersion/kind/metadata.name: ${JSON.stringify(value).slice(0, 200)}`,
      );
    }
    objects.push(value as KubeObject);
  }
  return objects;
}
