/** Helpers for the chart tests: run the real helm binary and validate rendered objects against Kubernetes schemas. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { findHelm, parseManifest, type KubeObject } from '../../src/release/helm.js';
import { repoRoot } from '../support/paths.js';

export const chartDir = path.join(repoRoot, 'deploy/helm/heart-disease-api');
export const devValues = path.join(chartDir, 'values-dev.yaml');
export const prodValues = path.join(chartDir, 'values-prod.yaml');
export const helmBin = findHelm();
// A supported cluster version, so results do not depend on the default compiled into the helm binary.
export const KUBE_VERSION = 'v1.31.0';

export interface HelmRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmRun {
  if (!helmBin) throw new Error('helm is not installed');
  const result = spawnSync(helmBin, args, { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function helmTemplate(
  release: string,
  namespace: string,
  valuesFiles: string[],
  extra: string[] = [],
  chart = chartDir,
): KubeObject[] {
  const args = ['template', release, chart, '--namespace', namespace, '--kube-version', KUBE_VERSION];
  for (const file of valuesFiles) args.push('--values', file);
  const run = helm([...args, ...extra]);
  if (run.code !== 0) throw new Error(`helm template failed: ${run.stderr}`);
  return parseManifest(run.stdout);
}

type Validatable = { validate(): void };
type ModelConstructor = new (data: unknown) => Validatable;

// The API groups this chart renders; a new group must be added here to be validated (unknown ones fail the test).
const MODELS: Record<string, () => Promise<Record<string, unknown>>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'autoscaling/v2': () => import('kubernetes-models/autoscaling/v2'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
  'batch/v1': () => import('kubernetes-models/batch/v1'),
};

export async function modelFor(apiVersion: string, kind: string): Promise<ModelConstructor | undefined> {
  const load = MODELS[apiVersion];
  if (!load) return undefined;
  const model = (await load())[kind];
  return typeof model === 'function' ? (model as ModelConstructor) : undefined;
}

/** Validation errors of one object against the Kubernetes OpenAPI schema, '' when valid. */
export async function schemaErrors(object: KubeObject): Promise<string> {
  const Model = await modelFor(object.apiVersion, object.kind);
  if (!Model) return `no Kubernetes schema for ${object.apiVersion} ${object.kind}`;
  try {
    new Model(object).validate();
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

export const byKind = (objects: KubeObject[], kind: string) => objects.filter((object) => object.kind === kind);

export function single(objects: KubeObject[], kind: string): KubeObject {
  const found = byKind(objects, kind);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}, rendered ${found.length}`);
  return found[0]!;
}
