/**
 * Deployment revision history as `kubectl rollout undo` reads it (k8s.io/kubectl/pkg/polymorphichelpers/rollback.go):
 * the Deployment's ReplicaSets (selected by its selector, controlled by its UID), ordered by the
 * deployment.kubernetes.io/revision annotation; the rollback target is the second newest; the patch replaces
 * spec.template (pod-template-hash label removed) and metadata.annotations (the ReplicaSet's, except the
 * controller-managed ones, which are kept from the Deployment).
 */
import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const POD_TEMPLATE_HASH = 'pod-template-hash';

// kubectl's annotationsToSkip: owned by the deployment controller or kubectl, never copied from a ReplicaSet.
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export function revisionOf(object: { metadata?: { annotations?: Record<string, string> } }): number | undefined {
  const text = object.metadata?.annotations?.[REVISION_ANNOTATION];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

export function selectorString(matchLabels: Record<string, string> | undefined): string {
  return Object.entries(matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** ReplicaSets whose controller is this Deployment. */
export function ownedReplicaSets(deployment: V1Deployment, replicaSets: V1ReplicaSet[]): V1ReplicaSet[] {
  const uid = deployment.metadata?.uid;
  return replicaSets.filter((rs) => rs.metadata?.ownerReferences?.some((owner) => owner.controller && owner.uid === uid));
}

/** Newest and second-newest revision, as kubectl's deploymentRevision(toRevision = 0) picks them. */
export function latestAndPrevious(replicaSets: V1ReplicaSet[]): { latest?: V1ReplicaSet; previous?: V1ReplicaSet } {
  let latest: V1ReplicaSet | undefined;
  let previous: V1ReplicaSet | undefined;
  let latestRevision = -1;
  let previousRevision = -1;
  for (const rs of replicaSets) {
    const revision = revisionOf(rs);
    if (revision === undefined) continue;
    if (revision > latestRevision) {
      previous = latest;
      previousRevision = latestRevision;
      latest = rs;
      latestRevision = revision;
    } else if (revision > previousRevision) {
      previous = rs;
      previousRevision = revision;
    }
  }
  return { ...(latest ? { latest } : {}), ...(previous ? { previous } : {}) };
}

export function templateWithoutHash(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const copy = structuredClone(template);
  if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH];
  return copy;
}

/** Canonical JSON (sorted keys, undefined dropped) so templates compare by content. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner && typeof inner === 'object' && !Array.isArray(inner) && !(inner instanceof Date)) {
      return Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
    }
    return inner;
  });
}

export function sameTemplateIgnoringHash(a: V1PodTemplateSpec, b: V1PodTemplateSpec): boolean {
  return canonicalJson(templateWithoutHash(a)) === canonicalJson(templateWithoutHash(b));
}

export function rollbackAnnotations(deployment: V1Deployment, target: V1ReplicaSet): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const key of ANNOTATIONS_TO_SKIP) {
    const value = deployment.metadata?.annotations?.[key];
    if (value !== undefined) merged[key] = value;
  }
  for (const [key, value] of Object.entries(target.metadata?.annotations ?? {})) {
    if (!ANNOTATIONS_TO_SKIP.has(key)) merged[key] = value;
  }
  return merged;
}

export type JsonPatchOp = { op: 'replace'; path: string; value: unknown };

export function rollbackPatch(deployment: V1Deployment, target: V1ReplicaSet): JsonPatchOp[] {
  if (!target.spec?.template) throw new Error(`ReplicaSet ${target.metadata?.name} has no pod template`);
  return [
    { op: 'replace', path: '/spec/template', value: templateWithoutHash(target.spec.template) },
    { op: 'replace', path: '/metadata/annotations', value: rollbackAnnotations(deployment, target) },
  ];
}
