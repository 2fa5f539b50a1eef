/**
 * STAND-IN for the Kubernetes API server (no cluster can run on this machine). It speaks the subset of the real
 * HTTP API the deploy CLI uses, with the real paths, verbs, content types, query parameters and Status errors:
 *   - discovery: GET /version (public, as on real clusters), GET /api/v1, GET /apis/{group}/{version}
 *   - server-side apply: PATCH with Content-Type application/apply-patch+yaml, fieldManager required, force
 *     (conflicts with fields another manager set -> 409 unless force=true), no-op applies do not write
 *     (resourceVersion and generation unchanged), metadata.generation bumped on spec changes
 *   - JSON patch (application/json-patch+json) as `kubectl rollout undo` sends; other patch types -> 415
 *   - GET object, GET list with labelSelector/fieldSelector (equality only), GET pods/{name}/log (tailLines, previous)
 *   - bearer-token authentication (401) and an RBAC deny list (403 with the API server's message)
 * A small deployment controller + kubelet simulation moves Deployments the way the real controllers report it:
 * observedGeneration, a ReplicaSet per pod template (pod-template-hash label, deployment.kubernetes.io/revision
 * annotation, controller ownerReference; a rollback re-uses the old ReplicaSet with a new revision), surge-1 rolling
 * updates with maxUnavailable 0, pods that become Ready or crash-loop depending on their image, Warning events and
 * container logs for crashing pods, and Progressing=False/ProgressDeadlineExceeded after the progress deadline.
 * Simplifications (documented, not hidden): lists in apply are atomic (real SSA merges list-maps by key), field
 * ownership is tracked per leaf path, no watch, no defaulting beyond spec.replicas, time scaled by the options.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';

type Json = Record<string, unknown>;

interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  generation: boolean;
}

const RESOURCE_TYPES: ResourceType[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, generation: false },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, generation: false },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, generation: false },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, generation: false },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, generation: false },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, generation: false },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, generation: false },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, generation: true },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, generation: true },
  {
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    generation: true,
  },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, generation: true },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, generation: true },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', namespaced: true, generation: true },
];

export type PodBehavior = 'ready' | 'crash';

export interface StandInOptions {
  /** Bearer token the kubeconfig must present. */
  token: string;
  /** RBAC denials: verb (get, list, patch, create) on resource (plural, or "pods/log"). */
  forbidden?: Array<{ verb: string; resource: string }>;
  /** What pods running `image` do. Default: ready. */
  podBehavior?: (image: string) => PodBehavior;
  /** Log of a crashing container. */
  crashLog?: string[];
  /** progressDeadlineSeconds is scaled to this many ms per second (default 10: 300 s -> 3 s). */
  msPerDeadlineSecond?: number;
  /** Controller tick (ms). */
  stepMs?: number;
  gitVersion?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
}

interface Stored {
  type: ResourceType;
  object: Json;
  owners: Map<string, string>;
}

const CONTROLLER_SKIP = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields'];

function status(code: number, reason: string, message: string): Json {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Json).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/** Leaf paths of an object; arrays are atomic leaves. */
function flatten(value: unknown, prefix: string[] = [], out = new Map<string, unknown>()): Map<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, inner] of Object.entries(value as Json)) flatten(inner, [...prefix, key], out);
  } else if (prefix.length > 0) {
    out.set(JSON.stringify(prefix), value);
  }
  return out;
}

function unflatten(leaves: Map<string, unknown>): Json {
  const root: Json = {};
  for (const [pathText, value] of leaves) {
    const path = JSON.parse(pathText) as string[];
    let node = root;
    path.slice(0, -1).forEach((key) => {
      if (!node[key] || typeof node[key] !== 'object') node[key] = {};
      node = node[key] as Json;
    });
    node[path.at(-1)!] = structuredClone(value);
  }
  return root;
}

/** User content of an object: what apply manages (no system metadata, no status). */
function content(object: Json): Json {
  const copy = structuredClone(object);
  delete copy.status;
  const metadata = (copy.metadata ?? {}) as Json;
  for (const key of CONTROLLER_SKIP) delete metadata[key];
  return copy;
}

function labelsMatch(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=') as [string, string];
    return (labels ?? {})[key] === value;
  });
}

function fieldsMatch(object: Json, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [path, value] = term.split('=') as [string, string];
    const actual = path.split('.').reduce<unknown>((node, key) => (node as Json | undefined)?.[key], object);
    return String(actual) === value;
  });
}

// Kubernetes' pod-template-hash alphabet (no vowels, no look-alike digits).
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';
function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(canonical(template)).digest();
  return Array.from(digest.subarray(0, 10), (byte) => SAFE[byte % SAFE.length]).join('');
}

export class KubeApiStandIn {
  readonly requests: RecordedRequest[] = [];
  private readonly store = new Map<string, Stored>();
  private resourceVersion = 100;
  private server?: http.Server;
  private timer?: NodeJS.Timeout;
  private readonly rolloutStarted = new Map<string, number>();

  constructor(private readonly options: StandInOptions) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const reply = (code: number, payload: unknown, type = 'application/json') => {
          res.writeHead(code, { 'content-type': type });
          res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
        };
        try {
          this.handle(req, body, reply);
        } catch (err) {
          reply(500, status(500, 'InternalError', (err as Error).message));
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.timer = setInterval(() => this.reconcile(), this.options.stepMs ?? 50);
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Direct read for assertions. */
  get(kind: string, namespace: string | undefined, name: string): Json | undefined {
    const type = RESOURCE_TYPES.find((t) => t.kind === kind)!;
    return structuredClone(this.store.get(this.key(type, namespace, name))?.object);
  }

  list(kind: string, namespace: string): Json[] {
    const type = RESOURCE_TYPES.find((t) => t.kind === kind)!;
    return [...this.store.values()]
      .filter((s) => s.type === type && (s.object.metadata as Json).namespace === namespace)
      .map((s) => structuredClone(s.object));
  }

  private key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${type.group}/${type.plural}/${type.namespaced ? namespace : ''}/${name}`;
  }

  private handle(req: http.IncomingMessage, body: string, reply: (code: number, payload: unknown, type?: string) => void): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type']?.split(';')[0];
    this.requests.push({ method, path: url.pathname, query, ...(contentType ? { contentType } : {}) });

    if (url.pathname === '/version' && method === 'GET') {
      return reply(200, { major: '1', minor: '31', gitVersion: this.options.gitVersion ?? 'v1.31.0', platform: 'linux/amd64' });
    }
    if (req.headers.authorization !== `Bearer ${this.options.token}`) return reply(401, status(401, 'Unauthorized', 'Unauthorized'));

    const parts = url.pathname.split('/').filter(Boolean);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1] === 'v1') [group, version, rest] = ['', 'v1', parts.slice(2)];
    else if (parts[0] === 'apis' && parts.length >= 3) [group, version, rest] = [parts[1]!, parts[2]!, parts.slice(3)];
    else return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));

    if (rest.length === 0 && method === 'GET') return reply(200, this.discovery(group, version));

    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, subresource] = rest;
    const type = RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
    if (!type) return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));

    const verb =
      method === 'GET' ? (name ? 'get' : 'list') : method === 'PATCH' ? 'patch' : method === 'POST' ? 'create' : method.toLowerCase();
    const resourceName = subresource ? `${plural}/${subresource}` : plural!;
    if (this.options.forbidden?.some((rule) => rule.verb === verb && rule.resource === resourceName)) {
      const groupText = group ? `.${group}` : '';
      const message =
        `${plural}${groupText}${name ? ` "${name}"` : ''} is forbidden: User "system:serviceaccount:ci:deployer" cannot ${verb} resource "${resourceName}" ` +
        `in API group "${group}"${namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope'}`;
      return reply(403, status(403, 'Forbidden', message));
    }

    if (method === 'GET' && !name) return reply(200, this.listObjects(type, namespace, query));
    if (method === 'GET' && subresource === 'log' && type.kind === 'Pod') return this.podLog(namespace, name!, query, reply);
    if (method === 'GET') {
      const stored = this.store.get(this.key(type, namespace, name!));
      if (!stored) return reply(404, status(404, 'NotFound', `${plural}${group ? `.${group}` : ''} "${name}" not found`));
      return reply(200, stored.object);
    }
    if (method === 'PATCH' && name && !subresource) {
      if (contentType === 'application/apply-patch+yaml') return this.apply(type, namespace, name, body, query, reply);
      if (contentType === 'application/json-patch+json') return this.jsonPatch(type, namespace, name, body, query, reply);
      return reply(
        415,
        status(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
        ),
      );
    }
    return reply(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
  }

  private discovery(group: string, version: string): Json {
    const resources = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version).flatMap((t) => [
      {
        name: t.plural,
        singularName: t.kind.toLowerCase(),
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      },
      ...(t.kind === 'Pod' ? [{ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] }] : []),
    ]);
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
  }

  private listObjects(type: ResourceType, namespace: string | undefined, query: Record<string, string>): Json {
    const items = [...this.store.values()]
      .filter((s) => s.type === type && (!type.namespaced || !namespace || (s.object.metadata as Json).namespace === namespace))
      .filter((s) => labelsMatch((s.object.metadata as Json).labels as Record<string, string>, query.labelSelector))
      .filter((s) => fieldsMatch(s.object, query.fieldSelector))
      .map((s) => {
        const item = structuredClone(s.object);
        delete item.kind;
        delete item.apiVersion;
        return item;
      });
    return {
      kind: `${type.kind}List`,
      apiVersion: type.group ? `${type.group}/${type.version}` : type.version,
      metadata: { resourceVersion: String(this.resourceVersion) },
      items,
    };
  }

  private podLog(
    namespace: string | undefined,
    name: string,
    query: Record<string, string>,
    reply: (code: number, payload: unknown, type?: string) => void,
  ) {
    const pod = this.store.get(
      this.key(
        RESOURCE_TYPES.find((t) => t.kind === 'Pod')!,
        namespace,
        name,
      ),
    );
    if (!pod) return reply(404, status(404, 'NotFound', `pods "${name}" not found`));
    const log = ((pod.object.metadata as Json).annotations as Record<string, string> | undefined)?.['stand-in/log'] ?? '';
    let lines = log.split('\n').filter(Boolean);
    if (query.tailLines) lines = lines.slice(-Number(query.tailLines));
    return reply(200, lines.map((line) => `${line}\n`).join(''), 'text/plain');
  }

  private write(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    next: Json,
    owners: Map<string, string>,
    existing: Stored | undefined,
  ): Json {
    const metadata = next.metadata as Json;
    const previous = existing?.object;
    const prevMeta = (previous?.metadata ?? {}) as Json;
    metadata.uid = prevMeta.uid ?? randomUUID();
    metadata.creationTimestamp = prevMeta.creationTimestamp ?? new Date().toISOString();
    metadata.resourceVersion = String(++this.resourceVersion);
    if (type.kind !== 'Namespace' && type.namespaced) metadata.namespace = namespace;
    if (type.generation) {
      const prevGeneration = (prevMeta.generation as number | undefined) ?? 0;
      const specChanged = !previous || canonical(previous.spec) !== canonical(next.spec);
      metadata.generation = specChanged ? prevGeneration + 1 : prevGeneration;
    }
    const managers = [...new Set(owners.values())];
    metadata.managedFields = managers.map((manager) => ({
      manager,
      operation: manager === 'heart-disease-mlops' ? 'Apply' : 'Update',
      apiVersion: next.apiVersion,
      fieldsType: 'FieldsV1',
      time: new Date().toISOString(),
    }));
    if (previous?.status) next.status = previous.status;
    if (type.kind === 'Deployment') {
      const spec = next.spec as Json;
      spec.replicas ??= 1;
      spec.progressDeadlineSeconds ??= 600;
      if (!next.status) next.status = { observedGeneration: 0, replicas: 0, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0 };
      if (!previous || canonical(previous.spec) !== canonical(next.spec))
        this.rolloutStarted.set(this.key(type, namespace, name), Date.now());
    }
    this.store.set(this.key(type, namespace, name), { type, object: next, owners });
    return next;
  }

  private apply(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: string,
    query: Record<string, string>,
    reply: (code: number, payload: unknown) => void,
  ) {
    const manager = query.fieldManager;
    if (!manager)
      return reply(
        400,
        status(400, 'BadRequest', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'),
      );
    let applied: Json;
    try {
      applied = parseYaml(body) as Json;
    } catch (err) {
      return reply(400, status(400, 'BadRequest', `error decoding YAML: ${(err as Error).message}`));
    }
    const expectedApiVersion = type.group ? `${type.group}/${type.version}` : type.version;
    if (applied.kind !== type.kind || applied.apiVersion !== expectedApiVersion || (applied.metadata as Json | undefined)?.name !== name) {
      return reply(
        400,
        status(
          400,
          'BadRequest',
          `the body's apiVersion/kind/name (${applied.apiVersion} ${applied.kind} ${(applied.metadata as Json | undefined)?.name}) does not match the request path (${expectedApiVersion} ${type.kind} ${name})`,
        ),
      );
    }
    const key = this.key(type, namespace, name);
    const existing = this.store.get(key);
    const appliedLeaves = flatten(content(applied));
    const owners = new Map(existing?.owners ?? []);
    const currentLeaves = flatten(existing ? content(existing.object) : {});

    const conflicts = [...appliedLeaves].filter(([path, value]) => {
      const owner = owners.get(path);
      return owner !== undefined && owner !== manager && currentLeaves.has(path) && canonical(currentLeaves.get(path)) !== canonical(value);
    });
    if (conflicts.length > 0 && query.force !== 'true') {
      const list = conflicts
        .map(([path]) => `conflict with "${owners.get(path)}": .${(JSON.parse(path) as string[]).join('.')}`)
        .join('\n- ');
      return reply(409, status(409, 'Conflict', `Apply failed with ${conflicts.length} conflict(s):\n- ${list}`));
    }
    // Fields this manager applied before but no longer applies are removed; everything applied now is owned by it.
    for (const [path, owner] of [...owners]) {
      if (owner === manager && !appliedLeaves.has(path)) {
        currentLeaves.delete(path);
        owners.delete(path);
      }
    }
    for (const [path, value] of appliedLeaves) {
      currentLeaves.set(path, value);
      owners.set(path, manager);
    }
    const next = unflatten(currentLeaves);
    if (
      existing &&
      canonical(next) === canonical(content(existing.object)) &&
      canonical([...owners].sort()) === canonical([...existing.owners].sort())
    ) {
      return reply(200, existing.object); // no-op apply: nothing is written
    }
    return reply(existing ? 200 : 201, this.write(type, namespace, name, next, owners, existing));
  }

  private jsonPatch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: string,
    query: Record<string, string>,
    reply: (code: number, payload: unknown) => void,
  ) {
    const existing = this.store.get(this.key(type, namespace, name));
    if (!existing) return reply(404, status(404, 'NotFound', `${type.plural} "${name}" not found`));
    const ops = JSON.parse(body) as Array<{ op: string; path: string; value?: unknown }>;
    const next = content(existing.object);
    const owners = new Map(existing.owners);
    const manager = query.fieldManager ?? 'kubectl-rollout';
    for (const op of ops) {
      const path = op.path
        .split('/')
        .slice(1)
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      if (op.op !== 'replace' && op.op !== 'add')
        return reply(422, status(422, 'Invalid', `stand-in supports replace/add JSON patch operations, got ${op.op}`));
      let node = next;
      for (const key of path.slice(0, -1)) {
        if (!node[key] || typeof node[key] !== 'object') {
          if (op.op === 'replace')
            return reply(
              422,
              status(
                422,
                'Invalid',
                `the server rejected our request due to an error in our request: replace operation does not apply: doc is missing path: ${op.path}`,
              ),
            );
          node[key] = {};
        }
        node = node[key] as Json;
      }
      node[path.at(-1)!] = structuredClone(op.value);
      const prefix = JSON.stringify(path).slice(0, -1);
      for (const leaf of [...owners.keys()]) if (leaf.startsWith(prefix)) owners.delete(leaf);
      for (const [leaf] of flatten(op.value, path)) owners.set(leaf, manager);
    }
    return reply(200, this.write(type, namespace, name, next, owners, existing));
  }

  // ---- controllers ------------------------------------------------------------------------------------------

  private type(kind: string): ResourceType {
    return RESOURCE_TYPES.find((t) => t.kind === kind)!;
  }

  private bump(object: Json) {
    (object.metadata as Json).resourceVersion = String(++this.resourceVersion);
  }

  private put(kind: string, object: Json) {
    const type = this.type(kind);
    const metadata = object.metadata as Json;
    metadata.uid ??= randomUUID();
    metadata.creationTimestamp ??= new Date().toISOString();
    this.bump(object);
    this.store.set(this.key(type, metadata.namespace as string, metadata.name as string), { type, object, owners: new Map() });
  }

  private remove(kind: string, namespace: string, name: string) {
    this.store.delete(this.key(this.type(kind), namespace, name));
  }

  private reconcile() {
    for (const stored of [...this.store.values()].filter((s) => s.type.kind === 'Deployment')) this.reconcileDeployment(stored.object);
  }

  private reconcileDeployment(deployment: Json) {
    const metadata = deployment.metadata as Json;
    const namespace = metadata.namespace as string;
    const name = metadata.name as string;
    const spec = deployment.spec as {
      replicas: number;
      template: Json;
      progressDeadlineSeconds: number;
      strategy?: { rollingUpdate?: { maxSurge?: number } };
    };
    const statusNow = deployment.status as Json;
    const owned = this.list('ReplicaSet', namespace).filter((rs) =>
      ((rs.metadata as Json).ownerReferences as Json[] | undefined)?.some((o) => o.uid === metadata.uid),
    );
    const revisionOf = (rs: Json) =>
      Number(((rs.metadata as Json).annotations as Record<string, string>)['deployment.kubernetes.io/revision']);
    const maxRevision = Math.max(0, ...owned.map(revisionOf));
    const hash = templateHash(spec.template);
    let newRs = owned.find((rs) => ((rs.metadata as Json).labels as Record<string, string>)['pod-template-hash'] === hash);
    let changed = false;

    if (!newRs || revisionOf(newRs) !== maxRevision) {
      // A new template gets a new ReplicaSet; a template seen before (rollback) re-uses its ReplicaSet with a new revision.
      const revision = String(maxRevision + 1);
      if (!newRs) {
        const template = structuredClone(spec.template);
        const templateMeta = (template.metadata ??= {}) as Json;
        templateMeta.labels = { ...((templateMeta.labels as Json) ?? {}), 'pod-template-hash': hash };
        newRs = {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: `${name}-${hash}`,
            namespace,
            labels: templateMeta.labels,
            annotations: {
              'deployment.kubernetes.io/revision': revision,
              'deployment.kubernetes.io/desired-replicas': String(spec.replicas),
            },
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: metadata.uid, controller: true, blockOwnerDeletion: true },
            ],
            generation: 1,
          },
          spec: { replicas: 0, selector: (deployment.spec as Json).selector, template },
          status: { replicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 },
        };
      } else {
        ((newRs.metadata as Json).annotations as Record<string, string>)['deployment.kubernetes.io/revision'] = revision;
      }
      this.put('ReplicaSet', newRs);
      metadata.annotations = { ...((metadata.annotations as Json) ?? {}), 'deployment.kubernetes.io/revision': revision };
      changed = true;
    }
    if ((statusNow.observedGeneration as number) !== metadata.generation) {
      statusNow.observedGeneration = metadata.generation;
      changed = true;
    }

    const image = (((newRs.spec as Json).template as Json).spec as { containers: Array<{ image: string }> }).containers[0]!.image;
    const behavior = this.options.podBehavior?.(image) ?? 'ready';
    const oldSets = owned.filter((rs) => (rs.metadata as Json).name !== (newRs!.metadata as Json).name);
    const newPods = () =>
      this.list('Pod', namespace).filter((p) => ((p.metadata as Json).labels as Record<string, string>)['pod-template-hash'] === hash);
    const oldReady = oldSets.reduce((sum, rs) => sum + ((rs.spec as Json).replicas as number), 0);

    if (behavior === 'ready') {
      // Surge step first (one new pod next to the old ones), full rollout on the next tick.
      const current = newPods().length;
      const target = current === 0 && oldReady > 0 ? 1 : spec.replicas;
      if (current !== target || oldReady > 0) {
        this.scalePods(newRs, target, 'ready');
        if (target === spec.replicas) for (const rs of oldSets) this.scalePods(rs, 0, 'ready');
        changed = true;
      }
    } else if (newPods().length === 0) {
      this.scalePods(newRs, Math.min(spec.replicas, spec.strategy?.rollingUpdate?.maxSurge ?? 1), 'crash');
      changed = true;
    }

    const allPods = this.list('Pod', namespace).filter((p) =>
      labelsMatch(
        (p.metadata as Json).labels as Record<string, string>,
        Object.entries(((deployment.spec as Json).selector as { matchLabels: Json }).matchLabels)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      ),
    );
    const ready = (p: Json) => ((p.status as Json).conditions as Json[]).some((c) => c.type === 'Ready' && c.status === 'True');
    const updated = newPods().length;
    const available = allPods.filter(ready).length;
    const started = this.rolloutStarted.get(this.key(this.type('Deployment'), namespace, name)) ?? Date.now();
    const deadlineMs = spec.progressDeadlineSeconds * (this.options.msPerDeadlineSecond ?? 10);
    const complete = updated === spec.replicas && allPods.length === updated && available === updated;
    const timedOut = !complete && Date.now() - started > deadlineMs;
    const progressing = complete
      ? {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${(newRs.metadata as Json).name}" has successfully progressed.`,
        }
      : timedOut
        ? {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: `ReplicaSet "${(newRs.metadata as Json).name}" has timed out progressing.`,
          }
        : {
            type: 'Progressing',
            status: 'True',
            reason: 'ReplicaSetUpdated',
            message: `ReplicaSet "${(newRs.metadata as Json).name}" is progressing.`,
          };
    const nextStatus = {
      ...statusNow,
      replicas: allPods.length,
      updatedReplicas: updated,
      readyReplicas: available,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, spec.replicas - available),
      conditions: [
        {
          type: 'Available',
          status: available >= spec.replicas ? 'True' : 'False',
          reason: available >= spec.replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        },
        progressing,
      ],
    };
    if (changed || canonical(nextStatus) !== canonical(statusNow)) {
      deployment.status = nextStatus;
      this.bump(deployment);
    }
  }

  private scalePods(rs: Json, count: number, behavior: PodBehavior) {
    const metadata = rs.metadata as Json;
    const namespace = metadata.namespace as string;
    const hash = (metadata.labels as Record<string, string>)['pod-template-hash']!;
    const pods = this.list('Pod', namespace).filter(
      (p) => ((p.metadata as Json).labels as Record<string, string>)['pod-template-hash'] === hash,
    );
    for (const pod of pods.slice(count)) this.remove('Pod', namespace, (pod.metadata as Json).name as string);
    const template = (rs.spec as Json).template as Json;
    const containers = ((template.spec as Json).containers as Array<{ name: string; image: string }>) ?? [];
    for (let i = pods.length; i < count; i++) {
      const podName = `${metadata.name}-${randomUUID().slice(0, 5)}`;
      const crash = behavior === 'crash';
      const log = crash
        ? (this.options.crashLog ?? ['starting', 'fatal: could not start'])
        : ['{"msg":"Server listening at http://0.0.0.0:8000"}'];
      this.put('Pod', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: podName,
          namespace,
          labels: structuredClone((template.metadata as Json).labels),
          annotations: { 'stand-in/log': log.join('\n') },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: metadata.name, uid: metadata.uid, controller: true }],
        },
        spec: structuredClone(template.spec),
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: crash ? 'False' : 'True' }],
          containerStatuses: containers.map((c) => ({
            name: c.name,
            image: c.image,
            ready: !crash,
            restartCount: crash ? 4 : 0,
            state: crash
              ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off 1m20s restarting failed container=${c.name} pod=${podName}` } }
              : { running: { startedAt: new Date().toISOString() } },
            ...(crash ? { lastState: { terminated: { exitCode: 1, reason: 'Error' } } } : {}),
          })),
        },
      });
      const event = (reason: string, type: string, message: string) =>
        this.put('Event', {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `${podName}.${randomUUID().slice(0, 8)}`, namespace },
          involvedObject: { kind: 'Pod', name: podName, namespace, apiVersion: 'v1' },
          reason,
          type,
          message,
          count: 1,
          lastTimestamp: new Date().toISOString(),
        });
      event('Scheduled', 'Normal', `Successfully assigned ${namespace}/${podName} to minikube`);
      if (crash) {
        event(
          'Unhealthy',
          'Warning',
          'Startup probe failed: Get "http://10.244.0.7:8000/health": dial tcp 10.244.0.7:8000: connect: connection refused',
        );
        event('BackOff', 'Warning', `Back-off restarting failed container ${containers[0]?.name} in pod ${podName}_${namespace}`);
      }
    }
    (rs.spec as Json).replicas = count;
    rs.status = {
      replicas: count,
      readyReplicas: behavior === 'ready' ? count : 0,
      availableReplicas: behavior === 'ready' ? count : 0,
      observedGeneration: 1,
    };
    this.put('ReplicaSet', rs);
  }
}
