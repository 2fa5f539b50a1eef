/**
 * The Helm chart with the real helm binary (scripts/ci/install-helm.sh): lint, render dev and prod values,
 * validate every object against the Kubernetes OpenAPI schemas (kubernetes-models), and check the policies
 * and the requirements on what is rendered.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/release/helm.js';
import { realComponent } from '../support/real-component.js';
import { containerPolicyViolations, hpaTargetViolations, podSpecOf, serviceTargetPortViolations } from './policy.js';
import { byKind, chartDir, devValues, helm, helmBin, helmTemplate, prodValues, schemaErrors, single } from './render.js';

const haveHelm = realComponent('helm', helmBin !== undefined, 'no helm on PATH, HELM_BIN or ~/go/bin (bash scripts/ci/install-helm.sh)');

interface Container {
  name: string;
  image: string;
  imagePullPolicy: string;
  ports: Array<{ name: string; containerPort: number }>;
  startupProbe: { httpGet: { path: string; port: string | number } };
  livenessProbe: { httpGet: { path: string; port: string | number } };
  readinessProbe: { httpGet: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  volumeMounts: Array<{ name: string; mountPath: string }>;
  envFrom: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
}

const apiContainer = (objects: KubeObject[]) => podSpecOf(single(objects, 'Deployment'))!.containers[0] as unknown as Container;

describe.runIf(haveHelm)('Helm chart heart-disease-api (real helm)', () => {
  const dev = haveHelm ? helmTemplate('heart-disease-api', 'heart-disease', [devValues]) : [];
  const prod = haveHelm ? helmTemplate('heart-disease-api', 'heart-disease-prod', [prodValues]) : [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'hd-chart-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each([
    ['dev', devValues],
    ['prod', prodValues],
  ])('helm lint --strict passes with %s values', (_name, values) => {
    const run = helm(['lint', chartDir, '--strict', '--values', values]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('0 chart(s) failed');
  });

  it('renders the expected objects for dev and prod', () => {
    expect(dev.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
    expect(prod.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Ingress',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
  });

  it('every rendered built-in object is valid against the Kubernetes OpenAPI schema', async () => {
    const errors: string[] = [];
    for (const object of [...dev, ...prod].filter((o) => o.kind !== 'ServiceMonitor')) {
      const error = await schemaErrors(object);
      if (error) errors.push(`${object.kind}/${object.metadata.name}: ${error}`);
    }
    expect(errors).toEqual([]);
  });

  it('the schema validation rejects a broken object (it can fail)', async () => {
    const deployment = structuredClone(single(dev, 'Deployment'));
    (podSpecOf(deployment)!.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = 'eight thousand';
    expect(await schemaErrors(deployment)).toMatch(/containerPort/);
    const hpa = structuredClone(single(prod, 'HorizontalPodAutoscaler'));
    delete (hpa.spec as { maxReplicas?: number }).maxReplicas;
    expect(await schemaErrors(hpa)).toMatch(/maxReplicas/);
  });

  it('the ServiceMonitor (a CRD, no built-in schema) has the fields the Prometheus Operator requires', () => {
    const monitor = single(prod, 'ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    const spec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> };
    const service = single(prod, 'Service');
    expect(spec.selector.matchLabels).toEqual(
      Object.fromEntries(Object.entries(service.metadata.labels ?? {}).filter(([k]) => k in spec.selector.matchLabels)),
    );
    expect(spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    expect((service.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name)).toContain('http');
  });

  it.each([
    ['dev', () => dev],
    ['prod', () => prod],
  ])('%s: every container has limits, probes, non-root, read-only root fs, no capabilities', (_name, objects) => {
    expect(containerPolicyViolations(objects())).toEqual([]);
  });

  it.each([
    ['dev', () => dev],
    ['prod', () => prod],
  ])("%s: the Service's targetPort is the container's port and the HPA targets the Deployment", (_name, objects) => {
    expect(serviceTargetPortViolations(objects())).toEqual([]);
    expect(hpaTargetViolations(objects())).toEqual([]);
  });

  it('the policy checks catch violations (they can fail)', () => {
    const broken = structuredClone(dev);
    const container = podSpecOf(single(broken, 'Deployment'))!.containers[0]!;
    delete container.resources!.limits;
    delete container.readinessProbe;
    container.securityContext!.readOnlyRootFilesystem = false;
    (single(broken, 'Service').spec as { ports: Array<{ targetPort: string | number }> }).ports[0]!.targetPort = 9999;
    expect(containerPolicyViolations(broken)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('no cpu limit'),
        expect.stringContaining('no readinessProbe'),
        expect.stringContaining('root filesystem is writable'),
      ]),
    );
    expect(serviceTargetPortViolations(broken)).toEqual([expect.stringContaining('targetPort 9999 matches no container port')]);
    const prodBroken = structuredClone(prod);
    (single(prodBroken, 'HorizontalPodAutoscaler').spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name = 'other';
    expect(hpaTargetViolations(prodBroken)).toHaveLength(1);
  });

  it('Deployment: rolling update without unavailability, probes on /health and /ready at port 8000, hardened pod', () => {
    const deployment = single(dev, 'Deployment');
    const spec = deployment.spec as {
      replicas: number;
      strategy: { type: string; rollingUpdate: { maxSurge: number; maxUnavailable: number } };
    };
    expect(spec.replicas).toBe(2);
    expect(spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const container = apiContainer(dev);
    expect(container.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: 8000 })]);
    expect(container.startupProbe.httpGet.path).toBe('/health');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
      expect([8000, 'http']).toContain(probe.httpGet.port);
    }
    const pod = podSpecOf(deployment) as unknown as {
      securityContext: { runAsNonRoot: boolean; runAsUser: number };
      automountServiceAccountToken: boolean;
      volumes: Array<{ name: string; emptyDir?: object }>;
    };
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(pod.automountServiceAccountToken).toBe(false);
    const tmpMount = container.volumeMounts.find((mount) => mount.mountPath === '/tmp');
    expect(pod.volumes.find((volume) => volume.name === tmpMount?.name)?.emptyDir).toBeDefined();
  });

  it("terminationGracePeriodSeconds covers the preStop drain plus the API's SHUTDOWN_DELAY_MS and SHUTDOWN_GRACE_MS", () => {
    const custom = helmTemplate(
      'hd',
      'x',
      [devValues],
      ['--set', 'shutdown.graceMs=25500', '--set', 'shutdown.delayMs=3000', '--set', 'shutdown.preStopSleepSeconds=7'],
    );
    expect(
      (podSpecOf(single(custom, 'Deployment')) as unknown as { terminationGracePeriodSeconds: number }).terminationGracePeriodSeconds,
    ).toBe(7 + 29 + 5);
    for (const objects of [dev, custom]) {
      const configMap = single(objects, 'ConfigMap');
      const env = configMap.data as Record<string, string>;
      const graceMs = Number(env.SHUTDOWN_GRACE_MS) + Number(env.SHUTDOWN_DELAY_MS);
      const container = apiContainer(objects);
      const preStopSeconds = Number(container.lifecycle?.preStop?.exec?.command.at(-1) ?? container.lifecycle?.preStop?.sleep?.seconds);
      const grace = (podSpecOf(single(objects, 'Deployment')) as unknown as { terminationGracePeriodSeconds: number })
        .terminationGracePeriodSeconds;
      expect(graceMs).toBeGreaterThan(0);
      expect(preStopSeconds).toBeGreaterThan(0);
      // Kubernetes counts the preStop hook inside the grace period; the API then needs its own drain time.
      expect(grace).toBeGreaterThanOrEqual(preStopSeconds + Math.ceil(graceMs / 1000));
      expect(grace).toBeLessThanOrEqual(preStopSeconds + Math.ceil(graceMs / 1000) + 10);
    }
  });

  it('the container reads its env from the ConfigMap and the API key Secret', () => {
    const withKeys = helmTemplate('hd', 'x', [devValues], ['--set', 'apiKeys=key-one\\,key-two']);
    const secret = single(withKeys, 'Secret');
    expect(Buffer.from((secret.data as Record<string, string>).API_KEYS!, 'base64').toString()).toBe('key-one,key-two');
    const container = apiContainer(withKeys);
    expect(container.envFrom.map((source) => source.configMapRef?.name ?? source.secretRef?.name)).toEqual([
      single(withKeys, 'ConfigMap').metadata.name,
      secret.metadata.name,
    ]);
    const data = single(withKeys, 'ConfigMap').data as Record<string, string>;
    expect(data).toMatchObject({ PORT: '8000', HOST: '0.0.0.0' });
    expect(data.API_KEYS).toBeUndefined();
    // A key change rolls the pods: the template carries the Secret's checksum.
    const annotations = (single(withKeys, 'Deployment').spec as { template: { metadata: { annotations: Record<string, string> } } })
      .template.metadata.annotations;
    const devAnnotations = (single(dev, 'Deployment').spec as { template: { metadata: { annotations: Record<string, string> } } }).template
      .metadata.annotations;
    expect(annotations['checksum/secret']).not.toBe(devAnnotations['checksum/secret']);
  });

  it('image defaults to heart-disease-api:<tag> with IfNotPresent, and --set-string image values override it', () => {
    expect(apiContainer(dev)).toMatchObject({ image: 'heart-disease-api:dev', imagePullPolicy: 'IfNotPresent' });
    const chartAppVersion = helm(['show', 'chart', chartDir]).stdout.match(/^appVersion: "?([^"\n]+)"?/m)?.[1];
    expect(apiContainer(prod).image).toBe(`heart-disease-api:${chartAppVersion}`);
    const pinned = helmTemplate(
      'hd',
      'x',
      [devValues],
      ['--set-string', 'image.tag=1.10', '--set-string', `image.digest=sha256:${'a'.repeat(64)}`],
    );
    expect(apiContainer(pinned).image).toBe(`heart-disease-api@sha256:${'a'.repeat(64)}`);
  });

  it('Service: NodePort 30080 in dev, ClusterIP in prod', () => {
    expect(single(dev, 'Service').spec).toMatchObject({ type: 'NodePort', ports: [expect.objectContaining({ nodePort: 30080 })] });
    const prodService = single(prod, 'Service').spec as { type: string; ports: Array<{ nodePort?: number }> };
    expect(prodService.type).toBe('ClusterIP');
    expect(prodService.ports[0]!.nodePort).toBeUndefined();
  });

  it('ServiceAccount without token automount, PDB and NetworkPolicy select the API pods', () => {
    const podLabels = (single(dev, 'Deployment').spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata
      .labels;
    expect(single(dev, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
      const spec = single(dev, kind).spec as {
        selector?: { matchLabels: Record<string, string> };
        podSelector?: { matchLabels: Record<string, string> };
      };
      const selector = (spec.selector ?? spec.podSelector)!.matchLabels;
      expect(
        Object.entries(selector).every(([key, value]) => podLabels[key] === value),
        kind,
      ).toBe(true);
    }
    const policy = single(prod, 'NetworkPolicy').spec as {
      policyTypes: string[];
      ingress: Array<{ ports: Array<{ port: string | number }> }>;
    };
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.ingress[0]!.ports[0]!.port).toBe('http');
  });

  it('registry values: MODEL_URI in the ConfigMap, egress to the MLflow port, optional credentials Secret; off by default', () => {
    const registry = (trackingUri: string, extra: string[] = []) =>
      helmTemplate(
        'hd',
        'x',
        [prodValues],
        ['--set', 'registry.modelUri=models:/heart-disease-risk@champion', '--set', `registry.trackingUri=${trackingUri}`, ...extra],
      );
    const egressPorts = (objects: KubeObject[]) =>
      (single(objects, 'NetworkPolicy').spec as { egress: Array<{ ports: Array<{ port: number }> }> }).egress.flatMap((rule) =>
        rule.ports.map((p) => p.port),
      );
    const on = registry('http://mlflow.mlflow.svc:5000', ['--set', 'registry.credentialsSecret=mlflow-auth']);
    expect(single(on, 'ConfigMap').data).toMatchObject({
      MODEL_URI: 'models:/heart-disease-risk@champion',
      MLFLOW_TRACKING_URI: 'http://mlflow.mlflow.svc:5000',
      MODEL_POLL_INTERVAL_S: '30',
    });
    expect(egressPorts(on)).toEqual([53, 53, 5000]);
    expect(
      apiContainer(on)
        .envFrom.map((source) => source.secretRef?.name)
        .filter(Boolean),
    ).toEqual(['hd-heart-disease-api', 'mlflow-auth']);
    expect(egressPorts(registry('https://mlflow.example.com'))).toEqual([53, 53, 443]);
    // Off by default: nothing about the registry is rendered.
    expect(Object.keys(single(prod, 'ConfigMap').data as object).filter((key) => /MODEL_URI|MLFLOW/.test(key))).toEqual([]);
    expect(egressPorts(prod)).toEqual([53, 53]);
    // A half configuration or the registry keys under config are refused at render time.
    expect(() => helmTemplate('hd', 'x', [prodValues], ['--set', 'registry.modelUri=models:/m@a'])).toThrow(
      'registry.trackingUri is required with registry.modelUri',
    );
    expect(() => helmTemplate('hd', 'x', [prodValues], ['--set', 'config.MODEL_URI=models:/m@a'])).toThrow(
      'config.MODEL_URI: set it under registry',
    );
  });

  it('HPA autoscaling/v2: 2-10 replicas, CPU 70 %, memory 80 %, slow scale-down; no fixed replicas beside it', () => {
    const hpa = single(prod, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    const spec = hpa.spec as {
      minReplicas: number;
      maxReplicas: number;
      metrics: Array<{ resource: { name: string; target: { averageUtilization: number } } }>;
      behavior: {
        scaleDown: { stabilizationWindowSeconds: number; policies: Array<{ type: string; value: number; periodSeconds: number }> };
      };
    };
    expect([spec.minReplicas, spec.maxReplicas]).toEqual([2, 10]);
    expect(Object.fromEntries(spec.metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization]))).toEqual({
      cpu: 70,
      memory: 80,
    });
    expect(spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    expect(spec.behavior.scaleDown.policies).toEqual([{ type: 'Pods', value: 1, periodSeconds: 60 }]);
    expect((single(prod, 'Deployment').spec as { replicas?: number }).replicas).toBeUndefined();
  });

  it('Ingress routes to the Service port and is optional', () => {
    const ingress = single(prod, 'Ingress').spec as {
      rules: Array<{ http: { paths: Array<{ backend: { service: { name: string; port: { name: string } } } }> } }>;
    };
    expect(ingress.rules[0]!.http.paths[0]!.backend.service).toEqual({
      name: single(prod, 'Service').metadata.name,
      port: { name: 'http' },
    });
    expect(byKind(dev, 'Ingress')).toHaveLength(0);
    expect(byKind(dev, 'ServiceMonitor')).toHaveLength(0);
  });

  it('NOTES.txt gives the NodePort access URL in dev and the Ingress URL in prod', () => {
    // helm template does not print NOTES.txt; a copy of the chart renders it into a ConfigMap through `include`.
    const copy = path.join(scratch, 'heart-disease-api');
    cpSync(chartDir, copy, { recursive: true });
    writeFileSync(
      path.join(copy, 'templates', 'zz-notes-check.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include (print $.Template.BasePath "/NOTES.txt") . | quote }}\n',
    );
    const notesOf = (values: string) => {
      const objects = helmTemplate('hd', 'ns1', [values], [], copy);
      return (objects.find((o) => o.metadata.name === 'notes')!.data as Record<string, string>).notes!;
    };
    const devNotes = notesOf(devValues);
    expect(devNotes).toContain(':30080');
    expect(devNotes).toContain('minikube ip');
    expect(devNotes).toContain('/predict');
    expect(notesOf(prodValues)).toContain('https://heart-disease.example.com');
  });
});
