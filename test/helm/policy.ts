/**
 * Deployment policies the chart must keep, as pure checks over rendered objects. Each returns the list of
 * violations (empty = compliant) so a failing test names the object and the rule.
 */
import type { KubeObject } from '../../src/release/helm.js';

interface Container {
  name: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}

/** The pod template's spec of a workload: Deployment, StatefulSet, Job (spec.template) or CronJob (spec.jobTemplate). */
export function podSpecOf(object: KubeObject): PodSpec | undefined {
  const spec = object.spec as { template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } } | undefined;
  return spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec;
}

/** Pods that run to completion (Job, CronJob): no service to probe, so probes do not apply. */
const RUN_TO_COMPLETION = new Set(['Job', 'CronJob']);

export function containerPolicyViolations(objects: KubeObject[]): string[] {
  const violations: string[] = [];
  for (const object of objects) {
    const pod = podSpecOf(object);
    if (!pod) continue;
    for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
      const where = `${object.kind}/${object.metadata.name} container ${container.name}`;
      for (const resource of ['cpu', 'memory']) {
        if (!container.resources?.limits?.[resource]) violations.push(`${where}: no ${resource} limit`);
        if (!container.resources?.requests?.[resource]) violations.push(`${where}: no ${resource} request`);
      }
      if (!RUN_TO_COMPLETION.has(object.kind)) {
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
          if (!container[probe]) violations.push(`${where}: no ${probe}`);
        }
      }
      const security = container.securityContext ?? {};
      const nonRoot = security.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      const uid = security.runAsUser ?? pod.securityContext?.runAsUser;
      if (nonRoot !== true) violations.push(`${where}: runAsNonRoot is not true`);
      if (uid === 0) violations.push(`${where}: runs as uid 0`);
      if (security.readOnlyRootFilesystem !== true) violations.push(`${where}: root filesystem is writable`);
      if (security.allowPrivilegeEscalation !== false) violations.push(`${where}: privilege escalation allowed`);
      if (!security.capabilities?.drop?.includes('ALL')) violations.push(`${where}: capabilities not dropped (drop: [ALL])`);
      if ((security.capabilities?.add ?? []).length > 0) violations.push(`${where}: adds capabilities`);
    }
  }
  return violations;
}

/** Every Service port's targetPort (name or number) must be a port some selected container exposes. */
export function serviceTargetPortViolations(objects: KubeObject[]): string[] {
  const violations: string[] = [];
  const workloads = objects.filter((object) => podSpecOf(object));
  for (const service of objects.filter((object) => object.kind === 'Service')) {
    const spec = service.spec as {
      selector?: Record<string, string>;
      ports?: Array<{ name?: string; targetPort?: string | number; port: number }>;
    };
    const selected = workloads.filter((workload) => {
      const labels = (workload.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels ?? {};
      const selector = spec.selector ?? {};
      return Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);
    });
    if (selected.length === 0) violations.push(`Service/${service.metadata.name}: selector matches no workload's pod labels`);
    const containerPorts = selected.flatMap((workload) => podSpecOf(workload)!.containers.flatMap((container) => container.ports ?? []));
    for (const port of spec.ports ?? []) {
      const target = port.targetPort ?? port.port;
      const match = containerPorts.some((containerPort) =>
        typeof target === 'number' ? containerPort.containerPort === target : containerPort.name === target,
      );
      if (!match)
        violations.push(`Service/${service.metadata.name} port ${port.name ?? port.port}: targetPort ${target} matches no container port`);
    }
  }
  return violations;
}

/** Every HPA must scale a Deployment that is rendered alongside it. */
export function hpaTargetViolations(objects: KubeObject[]): string[] {
  const violations: string[] = [];
  for (const hpa of objects.filter((object) => object.kind === 'HorizontalPodAutoscaler')) {
    const ref = (hpa.spec as { scaleTargetRef?: { apiVersion?: string; kind?: string; name?: string } }).scaleTargetRef;
    const target = objects.find(
      (object) => object.kind === ref?.kind && object.apiVersion === ref?.apiVersion && object.metadata.name === ref?.name,
    );
    if (!target || target.kind !== 'Deployment') {
      violations.push(
        `HorizontalPodAutoscaler/${hpa.metadata.name}: scaleTargetRef ${ref?.apiVersion}/${ref?.kind}/${ref?.name} is not a rendered Deployment`,
      );
    }
  }
  return violations;
}
