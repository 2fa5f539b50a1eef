/**
 * `npm run deploy` end to end on a real cluster (scripts/cluster/up.sh here; k3s under `dagger call e2e`): a Helm
 * release installed, left alone when unchanged, upgraded under continuous /predict load without a failed request,
 * rolled back with `helm rollback` after a missing image and a broken model while the old version keeps serving;
 * kubeconfig problems with their exit codes; the prod values' HPA, PDB, probes and security context.
 * One file, so its parts never run at the same time: the load of one would skew the timing of another, and the drain
 * cordons the node. Each part has its own namespace and removes it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { httpText } from '../../scripts/lib/http.js';
import { dockerEngineStatus, runProcess } from '../../scripts/lib/process.js';
import { EXIT_CODES } from '../../src/release/errors.js';
import { findHelm, parseManifest } from '../../src/release/helm.js';
import { findCluster, type ClusterInfo } from '../support/cluster.js';
import { realComponent } from '../support/real-component.js';
import {
  deployCli,
  devValues,
  execInPod,
  helmHistory,
  helmUninstall,
  nodeAddress,
  prodValues,
  RELEASE,
  tokenKubeconfig,
} from './support/deploy.js';
import { baseImageCandidates, findBaseImage, prepareImages, preloadedImages, type E2eImages } from './support/images.js';
import { loadLine, startLoad, type LoadReport } from './support/load.js';

const cluster = await findCluster();
const preloaded = preloadedImages() !== undefined;
const engine = preloaded ? { available: true, reason: '' } : await dockerEngineStatus();
const ready =
  realComponent('kubernetes cluster', cluster.available, cluster.available ? '' : cluster.reason) &&
  realComponent('helm', findHelm() !== undefined, 'no helm on PATH, HELM_BIN or ~/go/bin (bash scripts/ci/install-helm.sh)') &&
  realComponent('docker', engine.available, engine.reason) &&
  realComponent(
    'the API image',
    preloaded || (await findBaseImage()) !== undefined,
    `Docker has none of ${baseImageCandidates().join(', ')} (npm run train && npm run image:build)`,
  );

const scratch = mkdtempSync(path.join(os.tmpdir(), 'hd-e2e-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const eventually = <T>(check: () => Promise<T>, timeout = 120_000, interval = 1000) => vi.waitFor(check, { timeout, interval });
const values = (name: string, content: object) => {
  const file = path.join(scratch, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(content)); // JSON is YAML
  return file;
};
const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';

let info: ClusterInfo;
let kc: KubeConfig;
let images: E2eImages;
let core: CoreV1Api;
let apps: AppsV1Api;

async function deleteNamespace(namespace: string) {
  await helmUninstall(info.kubeconfig, namespace);
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
}

beforeAll(async () => {
  if (!ready || !cluster.available) return;
  ({ info, kubeConfig: kc } = cluster);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  const node = await core.readNode({ name: info.nodeName });
  const readyCondition = node.status?.conditions?.find((c) => c.type === 'Ready');
  console.log(`node ${info.nodeName}: Ready=${readyCondition?.status}, kubelet ${node.status?.nodeInfo?.kubeletVersion}`);
  images = await prepareImages((line) => console.log(line));
}, 600_000);

/** The release's Deployment, ReplicaSets and pods: what must not move when nothing changes. */
async function snapshot(namespace: string) {
  const deployment = await apps.readNamespacedDeployment({ name: RELEASE, namespace });
  const replicaSets = await apps.listNamespacedReplicaSet({ namespace });
  const pods = await core.listNamespacedPod({ namespace });
  return {
    deployment: [deployment.metadata?.generation, deployment.metadata?.resourceVersion],
    replicaSets: replicaSets.items.map((rs) => `${rs.metadata?.name}@${rs.metadata?.resourceVersion}`).sort(),
    pods: pods.items.map((pod) => pod.metadata?.name).sort(),
  };
}

describe.runIf(ready)('deploy with the dev values (NodePort 30080)', () => {
  const namespace = `e2e-dev-${randomBytes(3).toString('hex')}`;
  const nodeUrl = `http://${nodeAddress}:30080`;
  // Failures are decided in 20 s instead of the chart's 300 s; nothing else differs from the dev values.
  let fastFailure: string;
  let missingImage: string;
  const deploy = (image: string, extra: string[] = []) =>
    deployCli([
      '--kubeconfig',
      info.kubeconfig,
      '--namespace',
      namespace,
      '--values',
      devValues,
      '--image',
      image,
      '--timeout',
      '120s',
      ...extra,
    ]);

  beforeAll(() => {
    fastFailure = values('fast-failure', { progressDeadlineSeconds: 20 });
    missingImage = values('missing-image', { progressDeadlineSeconds: 20, image: { pullPolicy: 'Never' } });
  });
  afterAll(() => deleteNamespace(namespace), 120_000);

  /** Load on the NodePort while `during` runs; waits for a first run of answers before it starts. */
  async function underLoad<T>(during: () => Promise<T>): Promise<{ result: T; report: LoadReport }> {
    const load = startLoad(nodeUrl, 4);
    await eventually(async () => expect(load.count()).toBeGreaterThan(200), 60_000, 200);
    const result = await during();
    // Keep-alive connections to a terminating pod are served until it drains; the tail must come after that.
    await eventually(async () => {
      const pods = await core.listNamespacedPod({ namespace });
      expect(pods.items.filter((pod) => pod.metadata?.deletionTimestamp).map((pod) => pod.metadata?.name)).toEqual([]);
    }, 120_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const report = await load.stop();
    console.log(`load on ${nodeUrl}/predict: ${loadLine(report)}`);
    return { result, report };
  }

  it('installs a new release: revision 1, and /predict answers on NodePort 30080 from the host', async () => {
    const run = await deploy(images.v1.ref, ['--model-version', images.v1.modelVersion]);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain('Installing (helm upgrade --install --wait)');
    expect(run.stdout).toMatch(/pod heart-disease-api-\w+-\w+: Ready/); // live progress from the watch
    expect(run.stdout).toContain(`answers GET /model with model ${images.v1.modelVersion}`);
    expect(await helmHistory(info.kubeconfig, namespace)).toMatchObject([{ revision: 1, status: 'deployed' }]);

    const predict = await httpText(`${nodeUrl}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        age: 63,
        sex: 1,
        cp: 1,
        trestbps: 145,
        chol: 233,
        fbs: 1,
        restecg: 2,
        thalach: 150,
        exang: 0,
        oldpeak: 2.3,
        slope: 3,
        ca: 0,
        thal: 6,
      }),
    });
    expect(predict.status, predict.text).toBe(200);
    expect(JSON.parse(predict.text)).toMatchObject({ modelVersion: images.v1.modelVersion, label: expect.any(Number) });
  });

  it('a second run with the same input changes nothing: no new revision, same Deployment, ReplicaSets and pods', async () => {
    const before = await snapshot(namespace);
    const run = await deploy(images.v1.ref);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain('Revision 1 already has this manifest: no upgrade, no new revision.');
    expect(run.stdout).toContain('nothing changed (revision 1');
    expect(await snapshot(namespace)).toEqual(before);
    expect(await helmHistory(info.kubeconfig, namespace)).toHaveLength(1);
  });

  it('upgrades to a new model version under continuous /predict load: 0 failed requests, answers switch to the new model', async () => {
    const { result: run, report } = await underLoad(() => deploy(images.v2.ref, ['--model-version', images.v2.modelVersion]));
    expect(run.code, run.output).toBe(0);
    expect(await helmHistory(info.kubeconfig, namespace)).toMatchObject([
      { revision: 1, status: 'superseded' },
      { revision: 2, status: 'deployed' },
    ]);
    expect(report.failures, JSON.stringify(report.causes)).toBe(0);
    expect(report.firstVersion).toBe(images.v1.modelVersion);
    expect(new Set(report.lastVersions)).toEqual(new Set([images.v2.modelVersion]));
    expect(Object.keys(report.answersByVersion).sort()).toEqual([images.v1.modelVersion, images.v2.modelVersion].sort());
  });

  it.each([
    ['a missing image', () => images.missing, () => missingImage, /ErrImageNeverPull/, 2, 3],
    ['a broken model (starts, refuses the model, never ready)', () => images.broken.ref, () => fastFailure, /contract/i, 4, 5],
  ])(
    '%s: diagnostics, helm rollback, exit 1, and the old version serves throughout',
    async (_name, image, override, cause, rolledBackTo, failedRevision) => {
      const { result: run, report } = await underLoad(() => deploy(image(), ['--values', override(), '--log-lines', '5']));
      expect(run.code, run.output).toBe(EXIT_CODES.rollout);
      expect(run.stdout).toMatch(/Rollout of revision \d+ failed: deployment "heart-disease-api" exceeded its progress deadline/);
      expect(run.stdout).toMatch(/^ {2}events:$/m);
      const reason = lastLine(run.stderr);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(reason).toMatch(/^deploy failed \[rollout\]: /);
      expect(reason).toMatch(cause);
      expect(reason).toContain(`rolled back to revision ${rolledBackTo} (as revision ${failedRevision + 1})`);
      const history = await helmHistory(info.kubeconfig, namespace);
      expect(history.slice(-2)).toMatchObject([
        { revision: failedRevision, status: 'failed' },
        { revision: failedRevision + 1, status: 'deployed', description: `Rollback to ${rolledBackTo}` },
      ]);
      expect(report.failures, JSON.stringify(report.causes)).toBe(0);
      expect(Object.keys(report.answersByVersion)).toEqual([images.v2.modelVersion]);
    },
    300_000,
  );
});

describe.runIf(ready)('a first install that fails', () => {
  const namespace = `e2e-first-${randomBytes(3).toString('hex')}`;
  afterAll(() => deleteNamespace(namespace), 120_000);

  it('has nothing to roll back to: exit 1, the failed release stays for inspection, and the next deploy installs over it', async () => {
    // ClusterIP: NodePort 30080 belongs to the dev release above.
    const failing = values('first-failing', {
      progressDeadlineSeconds: 20,
      image: { pullPolicy: 'Never' },
      service: { type: 'ClusterIP' },
    });
    const args = [
      '--kubeconfig',
      info.kubeconfig,
      '--namespace',
      namespace,
      '--values',
      devValues,
      '--values',
      failing,
      '--timeout',
      '120s',
    ];
    const run = await deployCli([...args, '--image', images.missing]);
    expect(run.code, run.output).toBe(EXIT_CODES.rollout);
    expect(lastLine(run.stderr)).toMatch(
      /ErrImageNeverPull.*a first install has nothing to roll back to: it stays for inspection \(helm uninstall/,
    );
    expect(await helmHistory(info.kubeconfig, namespace)).toMatchObject([{ revision: 1, status: 'failed' }]);

    const fixed = await deployCli([...args, '--image', images.v1.ref]);
    expect(fixed.code, fixed.output).toBe(0);
    expect(await helmHistory(info.kubeconfig, namespace)).toMatchObject([
      { revision: 1, status: expect.stringMatching(/failed|superseded/) },
      { revision: 2, status: 'deployed' },
    ]);
  }, 300_000);
});

describe.runIf(ready)('kubeconfig problems: exit code and a one-line reason', () => {
  const namespace = `e2e-norights-${randomBytes(3).toString('hex')}`;
  afterAll(() => core.deleteNamespace({ name: namespace }).catch(() => undefined));

  it('a ServiceAccount bound to nothing is refused (exit 3) before anything is created', async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'nobody' } } });
    const token = await core.createNamespacedServiceAccountToken({
      name: 'nobody',
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const cluster = kc.getCurrentCluster()!;
    const file = tokenKubeconfig(path.join(scratch, 'nobody.kubeconfig'), cluster.server, cluster.caData, token.status!.token);
    const run = await deployCli(['--kubeconfig', file, '--namespace', namespace, '--values', devValues, '--image', images.v1.ref]);
    expect(run.code).toBe(EXIT_CODES.forbidden);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      new RegExp(`deploy failed \\[forbidden\\]: .*"system:serviceaccount:${namespace}:nobody" cannot list resource "secrets"`),
    );
    expect((await apps.listNamespacedDeployment({ namespace })).items).toEqual([]);

    const badToken = tokenKubeconfig(path.join(scratch, 'bad-token.kubeconfig'), cluster.server, cluster.caData, 'not-a-token');
    const rejected = await deployCli(['--kubeconfig', badToken, '--namespace', namespace, '--values', devValues]);
    expect(rejected.code).toBe(EXIT_CODES.unauthorized);
    expect(rejected.stderr.trim()).toMatch(
      /^deploy failed \[unauthorized\]: the API server .* rejected the kubeconfig credentials \(401 Unauthorized\)[^\n]*$/,
    );
  });
});

describe('kubeconfig problems found before the cluster is asked (no cluster needed)', () => {
  it('an unreachable server: exit 3 with the address', async () => {
    const port = await freePort(); // free a moment ago, closed again: connection refused
    const file = tokenKubeconfig(path.join(scratch, 'unreachable.kubeconfig'), `https://127.0.0.1:${port}`, undefined, 't');
    const run = await deployCli(['--kubeconfig', file, '--namespace', 'hd', '--values', devValues]);
    expect(run.code).toBe(EXIT_CODES.unreachable);
    expect(run.stderr.trim()).toMatch(
      new RegExp(
        `^deploy failed \\[unreachable\\]: cannot reach the Kubernetes API server at https://127.0.0.1:${port} \\(ECONNREFUSED\\)[^\\n]*$`,
      ),
    );
  });

  it.each([
    ['not YAML', 'clusters: [this is: not: valid\n', /is not a valid kubeconfig/],
    ['no current-context', 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n', /has no current-context/],
    [
      'a server that is not a URL',
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "::nope"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
      /is not a URL/,
    ],
  ])('a malformed kubeconfig (%s): exit 2', async (name, text, message) => {
    const file = path.join(scratch, `${name.replace(/\W+/g, '-')}.kubeconfig`);
    writeFileSync(file, text);
    const run = await deployCli(['--kubeconfig', file, '--namespace', 'hd', '--values', devValues]);
    expect(run.code).toBe(EXIT_CODES.kubeconfig);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^deploy failed \[kubeconfig\]: /);
    expect(run.stderr).toMatch(message);
  });
});

describe.runIf(ready)('the prod values: HPA out and in, the PDB during a drain, probes and security context', () => {
  const namespace = `e2e-prod-${randomBytes(3).toString('hex')}`;
  let selector: string;
  let nodeUrl: string;
  afterAll(() => deleteNamespace(namespace), 120_000);

  /**
   * values-prod.yaml with what this cluster lacks or a test cannot wait for: no ServiceMonitor (no Prometheus Operator
   * CRDs), a NodePort (no ingress controller), at most 4 replicas on 2 cores, and scale-in after 15 s instead of 5 min.
   */
  const testOverrides = () =>
    values('prod-test', {
      serviceMonitor: { enabled: false },
      service: { type: 'NodePort' },
      autoscaling: {
        maxReplicas: 4,
        scaleDown: { stabilizationWindowSeconds: 15, podsPerPeriod: 4, periodSeconds: 15 },
        scaleUp: { periodSeconds: 15 },
      },
    });
  const readyPods = async () =>
    (await core.listNamespacedPod({ namespace, labelSelector: selector })).items.filter(
      (pod) => !pod.metadata?.deletionTimestamp && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );

  it('installs; the running pods carry the rendered probes and security context, and run as rendered', async () => {
    const run = await deployCli([
      '--kubeconfig',
      info.kubeconfig,
      '--namespace',
      namespace,
      '--values',
      prodValues,
      '--values',
      testOverrides(),
      '--image',
      images.v1.ref,
    ]);
    expect(run.code, run.output).toBe(0);
    const helm = await runProcess(findHelm()!, ['get', 'manifest', RELEASE, '--kubeconfig', info.kubeconfig, '--namespace', namespace]);
    const rendered = parseManifest(helm.stdout).find((object) => object.kind === 'Deployment')!;
    const template = (rendered.spec as { template: { spec: V1Pod['spec'] } }).template.spec!;
    const deployment = await apps.readNamespacedDeployment({ name: RELEASE, namespace });
    selector = Object.entries(deployment.spec!.selector.matchLabels!)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const service = await core.readNamespacedService({ name: RELEASE, namespace });
    nodeUrl = `http://${nodeAddress}:${service.spec!.ports![0]!.nodePort}`;

    const pods = await readyPods();
    expect(pods.length).toBeGreaterThanOrEqual(2);
    for (const pod of pods) {
      const [live, want] = [pod.spec!.containers[0]!, template.containers[0]!];
      for (const field of ['startupProbe', 'livenessProbe', 'readinessProbe', 'securityContext', 'resources'] as const) {
        expect(live[field], `${pod.metadata?.name} ${field}`).toMatchObject(JSON.parse(JSON.stringify(want[field])) as object);
      }
      expect(pod.spec!.securityContext).toMatchObject(template.securityContext!);
    }
    // What the kernel enforces in the container: the rendered user, a read-only root, no capabilities.
    const probe = `const fs=require('fs');let w='writable';try{fs.writeFileSync('/app/x','')}catch(e){w=e.code}
      const s=fs.readFileSync('/proc/self/status','utf8');console.log(JSON.stringify({uid:process.getuid(),gid:process.getgid(),root:w,
      capEff:/CapEff:\\s*(\\w+)/.exec(s)[1],noNewPrivs:/NoNewPrivs:\\s*(\\d)/.exec(s)[1]}))`;
    const seen = JSON.parse(await execInPod(kc, namespace, pods[0]!.metadata!.name!, 'api', ['node', '-e', probe])) as Record<
      string,
      unknown
    >;
    console.log(`pod ${pods[0]!.metadata!.name} runs as ${JSON.stringify(seen)}`);
    expect(seen).toEqual({ uid: 10001, gid: 10001, root: 'EROFS', capEff: '0000000000000000', noNewPrivs: '1' });
  });

  it('the HPA scales out under /predict load (metrics-server) and back in when it stops', async () => {
    const autoscaling = kc.makeApiClient(AutoscalingV2Api);
    const hpaState = async () => {
      const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: RELEASE, namespace });
      const cpu = hpa.status?.currentMetrics?.find((m) => m.resource?.name === 'cpu')?.resource?.current.averageUtilization;
      return { current: hpa.status?.currentReplicas ?? 0, desired: hpa.status?.desiredReplicas ?? 0, cpu };
    };
    const load = startLoad(nodeUrl, 6);
    const started = Date.now();
    let out;
    try {
      out = await eventually(
        async () => {
          const state = await hpaState();
          const readyCount = (await readyPods()).length;
          if (state.desired <= 2 || readyCount <= 2) throw new Error(`HPA ${JSON.stringify(state)}, ${readyCount} ready pods`);
          return { ...state, ready: readyCount };
        },
        240_000,
        3000,
      );
    } finally {
      const report = await load.stop();
      console.log(`HPA load on ${nodeUrl}/predict: ${loadLine(report)}`);
    }
    console.log(
      `HPA scaled out to ${out.ready} ready pods (desired ${out.desired}, CPU ${out.cpu}% of requests) after ${((Date.now() - started) / 1000).toFixed(0)} s of load`,
    );
    const stopped = Date.now();
    const back = await eventually(
      async () => {
        const state = await hpaState();
        if (state.desired !== 2 || (await readyPods()).length !== 2) throw new Error(`HPA ${JSON.stringify(state)}`);
        return state;
      },
      300_000,
      3000,
    );
    console.log(`HPA scaled back in to ${back.desired} ready pods ${((Date.now() - stopped) / 1000).toFixed(0)} s after the load stopped`);
  }, 600_000);

  it('kubectl drain of the node evicts what the PDB allows and is refused the last ready pod (minAvailable 1); the Service serves throughout', async () => {
    expect((await readyPods()).length).toBe(2);
    const load = startLoad(nodeUrl, 2);
    let drain;
    try {
      // Only this release's pods: the cluster's own (CoreDNS, metrics-server) and other tests' pods stay untouched.
      drain = await runProcess(
        info.kubectl,
        [
          '--kubeconfig',
          info.kubeconfig,
          'drain',
          info.nodeName,
          '--pod-selector',
          selector,
          '--ignore-daemonsets',
          '--delete-emptydir-data',
          '--timeout=20s',
        ],
        { timeoutMs: 120_000 },
      );
    } finally {
      await runProcess(info.kubectl, ['--kubeconfig', info.kubeconfig, 'uncordon', info.nodeName]);
    }
    const report = await load.stop();
    const refusals = drain.stderr.split("Cannot evict pod as it would violate the pod's disruption budget").length - 1;
    const evicted = drain.stdout.match(/evicted/g)?.length ?? 0;
    console.log(
      `kubectl drain exit ${drain.code}: ${evicted} pod(s) evicted, ${refusals} evictions refused by the PodDisruptionBudget; ${lastLine(drain.stderr)}`,
    );
    console.log(`load during the drain: ${loadLine(report)}`);
    expect(drain.code).not.toBe(0);
    expect(drain.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget");
    expect(drain.stdout).toMatch(/evicted/);
    expect(report.failures, JSON.stringify(report.causes)).toBe(0);
    expect((await readyPods()).length).toBeGreaterThanOrEqual(1);
    await eventually(async () => expect((await readyPods()).length).toBe(2), 120_000); // the replacement schedules again
  }, 300_000);
});
