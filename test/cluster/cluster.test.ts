/**
 * The project's single-node Kubernetes cluster (scripts/cluster/) does what the deploy tests will need: a Ready
 * node of the configured version, the project's image loaded from Docker the way `minikube image load` does, a
 * NodePort reached from the host, a Service name resolved through CoreDNS from inside a pod, and node metrics from
 * the metrics API. Needs a running cluster (scripts/cluster/up.sh), a Docker engine and the API image
 * (`npm run image:build`).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, VersionApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { httpText } from '../../scripts/lib/http.js';
import { docker, dockerEngineStatus } from '../../scripts/lib/process.js';
import { API_PORT, IMAGE_NAME } from '../../src/contract/artifact-contract.js';
import { CLUSTER_SCRIPTS, findCluster, type ClusterInfo } from '../support/cluster.js';
import { realComponent } from '../support/real-component.js';

const run = promisify(execFile);
/** The API image `npm run image:build` tags as latest; CLUSTER_TEST_IMAGE names another one already in Docker. */
const image = process.env.CLUSTER_TEST_IMAGE ?? `${IMAGE_NAME}:latest`;
const cluster = await findCluster();
const engine = await dockerEngineStatus();
const haveImage = engine.available && (await docker(['image', 'inspect', image])).code === 0;

const ready =
  realComponent('kubernetes cluster', cluster.available, cluster.available ? '' : cluster.reason) &&
  realComponent('docker', engine.available, engine.reason) &&
  realComponent(`image ${image}`, haveImage, `Docker has no ${image} (npm run train && npm run image:build)`);

/** Polls until `check` stops throwing; its last error is the failure message. */
const eventually = <T>(check: () => Promise<T>, timeout = 90_000) => vi.waitFor(check, { timeout, interval: 500 });

describe.runIf(ready)('single-node Kubernetes cluster (scripts/cluster)', () => {
  const namespace = `cluster-smoke-${randomBytes(3).toString('hex')}`;
  let info: ClusterInfo;
  let kc: KubeConfig;
  let core: CoreV1Api;

  beforeAll(async () => {
    if (!cluster.available) throw new Error('unreachable: guarded by describe.runIf');
    ({ info, kubeConfig: kc } = cluster);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // Into the node the way `minikube image load` does (docker save | ctr import); pods below use only this copy.
    const loaded = await run('bash', [`${CLUSTER_SCRIPTS}/load-image.sh`, image], { timeout: 300_000 });
    expect(loaded.stdout).toContain(`${image} loaded`);
  });

  afterAll(async () => {
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('has a Ready node whose kubelet and API server report the configured Kubernetes version', async () => {
    const node = await core.readNode({ name: info.nodeName });
    const readyCondition = node.status?.conditions?.find((c) => c.type === 'Ready');
    expect(readyCondition?.status, readyCondition?.message).toBe('True');
    const server = await kc.makeApiClient(VersionApi).getCode();
    console.log(`node ${info.nodeName}: kubelet ${node.status?.nodeInfo?.kubeletVersion}, API server ${server.gitVersion}`);
    expect(node.status?.nodeInfo?.kubeletVersion).toBe(info.kubernetesVersion);
    expect(server.gitVersion).toBe(info.kubernetesVersion);
  });

  it('runs the project image loaded from Docker and serves it on a NodePort reached from the host', async () => {
    const labels = { app: 'api' };
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'api' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'api',
                  image,
                  imagePullPolicy: 'Never', // only the loaded image: nothing may try a registry
                  ports: [{ containerPort: API_PORT }],
                  readinessProbe: { httpGet: { path: '/health', port: API_PORT }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      },
    });
    const service = await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'api' }, spec: { type: 'NodePort', selector: labels, ports: [{ port: 80, targetPort: API_PORT }] } },
    });
    const nodePort = service.spec?.ports?.[0]?.nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(30000);

    const health = await eventually(async () => {
      const response = await httpText(`http://127.0.0.1:${nodePort}/health`);
      if (response.status !== 200) throw new Error(`GET /health on NodePort ${nodePort}: ${response.status} ${response.text}`);
      return response;
    }, 120_000);
    expect(health.status).toBe(200);
  }, 180_000);

  it('resolves a Service name through CoreDNS from inside a pod', async () => {
    const service = await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'dns-target' }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } },
    });
    // The short name goes through the pod's search path, the full name straight to the cluster domain.
    const lookup = `const dns = require('node:dns').promises;
      Promise.all(['dns-target', 'dns-target.${namespace}.svc.cluster.local'].map((n) => dns.lookup(n)))
        .then((found) => console.log(JSON.stringify(found.map((f) => f.address))))`;
    const pod: V1Pod = {
      metadata: { name: 'dns-lookup' },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'lookup', image, imagePullPolicy: 'Never', command: ['node', '-e', lookup] }],
      },
    };
    await core.createNamespacedPod({ namespace, body: pod });
    const phase = await eventually(async () => {
      const current = (await core.readNamespacedPod({ name: 'dns-lookup', namespace })).status?.phase;
      if (current !== 'Succeeded' && current !== 'Failed') throw new Error(`dns-lookup pod is ${current}`);
      return current;
    });
    const output = await core.readNamespacedPodLog({ name: 'dns-lookup', namespace });
    expect(phase, output).toBe('Succeeded');
    expect(JSON.parse(output.trim())).toEqual([service.spec?.clusterIP, service.spec?.clusterIP]);
  }, 150_000);

  it('serves node metrics from the metrics API (metrics-server)', async () => {
    const metrics = (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      plural: 'nodes',
      name: info.nodeName,
    })) as { usage: { cpu: string; memory: string } };
    console.log(`node metrics: cpu ${metrics.usage.cpu}, memory ${metrics.usage.memory}`);
    expect(metrics.usage.cpu).toMatch(/^[1-9]\d*[nu]?$/);
    expect(metrics.usage.memory).toMatch(/^[1-9]\d*(Ki|Mi)?$/);
  });
});
