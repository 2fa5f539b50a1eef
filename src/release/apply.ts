/**
 * Server-side apply of rendered objects (KubernetesObjectApi.patch with PatchStrategy.ServerSideApply, our field
 * manager, force=true so fields last written by someone else, e.g. `kubectl rollout undo`, come back to us).
 * The API server skips no-op applies without writing, so an unchanged resourceVersion proves nothing changed.
 */
import { PatchStrategy, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node';
import { FIELD_MANAGER } from './args.js';
import { describeKubeError } from './errors.js';
import type { KubeObject } from './render.js';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface AppliedObject {
  ref: string;
  outcome: ApplyOutcome;
  resourceVersion: string;
  generation?: number;
  live: KubernetesObject;
}

export const objectRef = (object: { kind?: string; metadata?: { name?: string } }) => `${object.kind}/${object.metadata?.name}`;

async function readIfExists(api: KubernetesObjectApi, object: KubeObject): Promise<KubernetesObject | undefined> {
  try {
    return await api.read({
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: { name: object.metadata.name, namespace: object.metadata.namespace },
    });
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) return undefined;
    throw err;
  }
}

export function outcomeOf(before: KubernetesObject | undefined, after: KubernetesObject): ApplyOutcome {
  if (!before) return 'created';
  return before.metadata?.resourceVersion === after.metadata?.resourceVersion ? 'unchanged' : 'configured';
}

export async function applyObject(api: KubernetesObjectApi, server: string, object: KubeObject): Promise<AppliedObject> {
  const ref = objectRef(object);
  try {
    const before = await readIfExists(api, object);
    // A fresh copy: client-node fills in defaults (namespace) on the spec object it is given.
    const body = structuredClone(object) as KubernetesObject;
    const live = await api.patch(body, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    return {
      ref,
      outcome: outcomeOf(before, live),
      resourceVersion: live.metadata?.resourceVersion ?? '',
      ...(typeof live.metadata?.generation === 'number' ? { generation: live.metadata.generation } : {}),
      live,
    };
  } catch (err) {
    throw describeKubeError(err, server, `apply ${ref} in namespace ${object.metadata.namespace}`);
  }
}

/** Puts every namespaced object in `namespace` (helm template leaves most without one). */
export function inNamespace(objects: KubeObject[], namespace: string): KubeObject[] {
  return objects.map((object) => (object.kind === 'Namespace' ? object : { ...object, metadata: { ...object.metadata, namespace } }));
}
