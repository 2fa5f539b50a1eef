/**
 * `npm run deploy` (src/release/cli.ts, run as a user runs it) against the Kubernetes API stand-in
 * (kube-api-stand-in.ts): first deploy, idempotent second run, failed rollout -> diagnostics -> rollback,
 * rollout timeout, first deploy failing with nothing to roll back to, and the error paths (bad options,
 * bad kubeconfig, unreachable server, 401, 403). The chart is rendered by the real helm binary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHelm, renderChart } from '../../src/release/render.js';
import { repoRoot } from '../support/paths.js';
import { realComponent } from '../support/real-component.js';
import { runTs, type CliResult } from '../support/run-cli.js';
import { KubeApiStandIn, type StandInOptions } from './kube-api-stand-in.js';
import { freePort } from '../../scripts/lib/free-port.js';

const haveHelm = realComponent('helm', findHelm() !== undefined, 'no helm on PATH, HELM_BIN or ~/go/bin (bash scripts/ci/install-helm.sh)');
const chartDir = path.join(repoRoot, 'deploy/helm/heart-disease-api');
const devValues = path.join(chartDir, 'values-dev.yaml');
const TOKEN = 'stand-in-token-7f3a';
const GOOD = 'heart-disease-api:1.0.0';
const GOOD_2 = 'heart-disease-api:1.1.0';
const BROKEN = 'heart-disease-api:broken';
const CRASH_LOG = Array.from({ length: 30 }, (_, i) => `{"level":30,"msg":"boot step ${i + 1}"}`).concat([
  '{"level":60,"msg":"model load failed: ENOENT: no such file or directory, open \'/app/artifacts/model.onnx\'"}',
]);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const scratch = mkdtempSync(path.join(os.tmpdir(), 'hd-deploy-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function kubeconfig(name: string, server: string, token = TOKEN): string {
  const file = path.join(scratch, `${name}.kubeconfig`);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: stand-in`,
      `  cluster: {server: "${server}", insecure-skip-tls-verify: true}`,
      'users:',
      `- name: deployer`,
      `  user: {token: "${token}"}`,
      'contexts:',
      `- name: stand-in`,
      `  context: {cluster: stand-in, user: deployer, namespace: default}`,
      'current-context: stand-in',
      '',
    ].join('\n'),
  );
  return file;
}

function deployCli(config: string, namespace: string, image: string | undefined, extra: string[] = []): Promise<CliResult> {
  const args = [
    '--kubeconfig',
    config,
    '--namespace',
    namespace,
    '--values',
    devValues,
    '--poll-interval',
    '100ms',
    '--timeout',
    '20s',
    ...extra,
  ];
  if (image) args.push('--image', image);
  return runTs('src/release/cli.ts', args, {}, 90_000);
}

const output = (run: CliResult) => `${run.stdout}\n${run.stderr}`;

async function startStandIn(options: Partial<StandInOptions> = {}) {
  const standIn = new KubeApiStandIn({
    token: TOKEN,
    podBehavior: (image) => (image.endsWith(':broken') ? 'crash' : 'ready'),
    crashLog: CRASH_LOG,
    ...options,
  });
  const url = await standIn.start();
  return { standIn, url };
}

function snapshot(standIn: KubeApiStandIn, namespace: string) {
  const kinds = ['ConfigMap', 'Secret', 'Service', 'ServiceAccount', 'Deployment', 'PodDisruptionBudget', 'NetworkPolicy', 'ReplicaSet'];
  return kinds.flatMap((kind) =>
    standIn.list(kind, namespace).map((o: Json) => ({
      ref: `${kind}/${o.metadata.name}`,
      resourceVersion: o.metadata.resourceVersion,
      generation: o.metadata.generation as number | undefined,
    })),
  );
}

const deploymentOf = (standIn: KubeApiStandIn, namespace: string) => standIn.list('Deployment', namespace)[0] as Json;
const imageOf = (deployment: Json) => deployment.spec.template.spec.containers[0].image as string;

describe.runIf(haveHelm)('deploy CLI against the Kubernetes API stand-in', () => {
  let standIn: KubeApiStandIn;
  let config: string;

  beforeAll(async () => {
    const started = await startStandIn();
    standIn = started.standIn;
    config = kubeconfig('main', started.url);
  });
  afterAll(() => standIn.stop());

  it('first deploy: creates the namespace and every chart object by server-side apply, waits for the rollout, prints the URL', async () => {
    const run = await deployCli(config, 'hd-dev', GOOD);
    expect(run.code, output(run)).toBe(0);
    expect(standIn.get('Namespace', undefined, 'hd-dev')).toBeDefined();
    expect(
      snapshot(standIn, 'hd-dev')
        .map((s) => s.ref.split('/')[0])
        .sort(),
    ).toEqual(
      ['ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'ReplicaSet', 'Secret', 'Service', 'ServiceAccount'].sort(),
    );
    const deployment = deploymentOf(standIn, 'hd-dev');
    expect(imageOf(deployment)).toBe(GOOD);
    expect(deployment.status).toMatchObject({
      replicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
      observedGeneration: deployment.metadata.generation,
    });
    expect(deployment.metadata.managedFields.map((f: Json) => f.manager)).toEqual(['heart-disease-mlops']);

    const applies = standIn.requests.filter((r) => r.method === 'PATCH');
    expect(applies.length).toBe(8); // namespace + 7 chart objects
    for (const request of applies) {
      expect(request.contentType).toBe('application/apply-patch+yaml');
      expect(request.query).toMatchObject({ fieldManager: 'heart-disease-mlops', force: 'true' });
    }
    expect(run.stdout).toContain('successfully rolled out');
    expect(run.stdout).toContain('Access URL: http://127.0.0.1:30080');

    // What reached the API server is exactly what helm rendered (nothing lost in client-node's serialization).
    const rendered = renderChart({
      chart: chartDir,
      release: 'heart-disease-api',
      namespace: 'hd-dev',
      valuesFiles: [devValues],
      image: { repository: 'heart-disease-api', tag: '1.0.0' },
    });
    expect(rendered).toHaveLength(7);
    for (const object of rendered) {
      const live = standIn.get(object.kind, 'hd-dev', object.metadata.name);
      expect(live, `${object.kind}/${object.metadata.name}`).toMatchObject(object);
    }
  });

  it('second run with no change changes nothing (same resourceVersion and generation everywhere, no new ReplicaSet)', async () => {
    const before = snapshot(standIn, 'hd-dev');
    const run = await deployCli(config, 'hd-dev', GOOD);
    expect(run.code, output(run)).toBe(0);
    expect(snapshot(standIn, 'hd-dev')).toEqual(before);
    expect(run.stdout).toContain('nothing changed');
    expect(run.stdout.match(/ unchanged \(/g)?.length).toBe(7);
  });

  it('a new image rolls out as revision 2', async () => {
    const run = await deployCli(config, 'hd-dev', GOOD_2);
    expect(run.code, output(run)).toBe(0);
    const deployment = deploymentOf(standIn, 'hd-dev');
    expect(imageOf(deployment)).toBe(GOOD_2);
    expect(deployment.metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    expect(run.stdout).toContain('revision 2 is serving');
  });

  it('a crashing image exceeds the progress deadline: pods events and last log lines are printed, then it is rolled back', async () => {
    const requestsBefore = standIn.requests.length;
    const run = await deployCli(config, 'hd-dev', BROKEN, ['--log-lines', '3']);
    expect(run.code, output(run)).toBe(1);
    const text = output(run);
    expect(text).toContain('exceeded its progress deadline');
    // Failing pod of the new revision with its events (not other pods' events) and only the last 3 log lines.
    expect(text).toMatch(/pod heart-disease-api-[a-z0-9]+-[a-z0-9]+: phase Running; api: ready=false restarts=4 waiting CrashLoopBackOff/);
    expect(text).toContain('Warning BackOff: Back-off restarting failed container api');
    expect(text).toContain('Warning Unhealthy: Startup probe failed');
    expect(text).toContain("model load failed: ENOENT: no such file or directory, open '/app/artifacts/model.onnx'");
    expect(text).toContain('boot step 30');
    expect(text).not.toContain('boot step 28"');
    expect(text).toContain('rolled back to revision 2');

    // kubectl rollout undo semantics: the previous ReplicaSet's template is back, as a new revision (4).
    const deployment = deploymentOf(standIn, 'hd-dev');
    expect(imageOf(deployment)).toBe(GOOD_2);
    expect(deployment.spec.template.metadata.labels['pod-template-hash']).toBeUndefined();
    expect(deployment.spec.template.spec.containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
    expect(deployment.metadata.annotations['deployment.kubernetes.io/revision']).toBe('4');
    expect(deployment.status).toMatchObject({ updatedReplicas: 2, availableReplicas: 2, replicas: 2 });
    const undo = standIn.requests.slice(requestsBefore).filter((r) => r.contentType === 'application/json-patch+json');
    expect(undo).toHaveLength(1);
    expect(undo[0]!.path).toBe('/apis/apps/v1/namespaces/hd-dev/deployments/heart-disease-api');
    // Only pods of the failing ReplicaSet were asked for logs.
    const logRequests = standIn.requests.slice(requestsBefore).filter((r) => r.path.endsWith('/log'));
    expect(logRequests.length).toBeGreaterThan(0);
    expect(logRequests.every((r) => r.query.tailLines === '3' && r.query.previous === 'true')).toBe(true);
  });

  it('after a rollback the next deploy takes the fields back (force) and rolls out', async () => {
    const run = await deployCli(config, 'hd-dev', GOOD);
    expect(run.code, output(run)).toBe(0);
    expect(imageOf(deploymentOf(standIn, 'hd-dev'))).toBe(GOOD);
  });

  it('a rollout that does not finish within --timeout is rolled back', async () => {
    const run = await deployCli(config, 'hd-dev', BROKEN, ['--timeout', '1s', '--log-lines', '1']);
    expect(run.code, output(run)).toBe(1);
    expect(output(run)).toMatch(/timed out after 1s waiting for deployment "heart-disease-api"/);
    expect(output(run)).toContain('rolled back to revision');
    expect(imageOf(deploymentOf(standIn, 'hd-dev'))).toBe(GOOD);
  });

  it('a failing first deploy has nothing to roll back to and says so', async () => {
    const run = await deployCli(config, 'hd-first', BROKEN, ['--timeout', '2s']);
    expect(run.code, output(run)).toBe(1);
    expect(run.stderr).toContain('no previous revision of deployment "heart-disease-api" to roll back to');
    expect(imageOf(deploymentOf(standIn, 'hd-first'))).toBe(BROKEN);
  });

  it('--no-rollback leaves the failed revision in place', async () => {
    const run = await deployCli(config, 'hd-dev', BROKEN, ['--timeout', '1s', '--no-rollback']);
    expect(run.code, output(run)).toBe(1);
    expect(run.stderr).toContain('rollback disabled by --no-rollback');
    expect(imageOf(deploymentOf(standIn, 'hd-dev'))).toBe(BROKEN);
  });
});

describe.runIf(haveHelm)('deploy CLI error paths', () => {
  it('bad options name the option and the rule', async () => {
    // Everything else valid, so each run fails on the one option under test.
    const cli = (...options: string[]) => runTs('src/release/cli.ts', ['--kubeconfig', devValues, '--values', devValues, ...options]);
    const noNamespace = await cli();
    expect(noNamespace.code).toBe(2);
    expect(noNamespace.stderr).toContain('--namespace is required');
    const badImage = await cli('--namespace', 'ok', '--image', 'Heart Disease');
    expect(badImage.code).toBe(2);
    expect(badImage.stderr).toContain('--image "Heart Disease" is not an image reference');
    const badNamespace = await cli('--namespace', 'Bad_NS');
    expect(badNamespace.stderr).toContain('--namespace "Bad_NS" is not a valid namespace');
    const badTimeout = await cli('--namespace', 'ok', '--timeout', 'soon');
    expect(badTimeout.stderr).toContain('--timeout "soon" is not a duration');
    for (const run of [noNamespace, badImage, badNamespace, badTimeout]) expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a bad kubeconfig is reported as such', async () => {
    const garbage = path.join(scratch, 'garbage.kubeconfig');
    writeFileSync(garbage, 'clusters: [this is: not: valid\n');
    const run = await deployCli(garbage, 'hd', GOOD);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/deploy failed \[kubeconfig\]: kubeconfig .*garbage\.kubeconfig is not a valid kubeconfig/);
    const noContext = path.join(scratch, 'nocontext.kubeconfig');
    writeFileSync(noContext, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
    const run2 = await deployCli(noContext, 'hd', GOOD);
    expect(run2.code).toBe(2);
    expect(run2.stderr).toContain('has no current-context');
    const missing = await deployCli(path.join(scratch, 'missing.kubeconfig'), 'hd', GOOD);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--kubeconfig');
    expect(missing.stderr).toContain('no such file');
  });

  it('an unreachable cluster is reported with the server address', async () => {
    // A port that was just free and is closed again: connection refused.
    const port = await freePort();
    const run = await deployCli(kubeconfig('unreachable', `http://127.0.0.1:${port}`), 'hd', GOOD);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`cannot reach the Kubernetes API server at http://127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it('without helm the deploy stops before applying anything and says how to get it', async () => {
    const { standIn, url } = await startStandIn();
    try {
      const run = await runTs(
        'src/release/cli.ts',
        ['--kubeconfig', kubeconfig('no-helm', url), '--namespace', 'hd', '--values', devValues],
        { HELM_BIN: path.join(scratch, 'no-such-helm') },
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('helm is not installed');
      expect(run.stderr).toContain('scripts/ci/install-helm.sh');
      expect(standIn.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    } finally {
      await standIn.stop();
    }
  });

  it('rejected credentials (401) and missing permissions (403) are reported, nothing is half-applied on 401', async () => {
    const { standIn, url } = await startStandIn({ forbidden: [{ verb: 'patch', resource: 'deployments' }] });
    try {
      const unauthorized = await deployCli(kubeconfig('wrong-token', url, 'wrong-token'), 'hd', GOOD);
      expect(unauthorized.code).toBe(3);
      expect(unauthorized.stderr).toContain('rejected the kubeconfig credentials (401 Unauthorized)');
      expect(standIn.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);

      const forbidden = await deployCli(kubeconfig('rbac', url), 'hd', GOOD);
      expect(forbidden.code).toBe(3);
      expect(forbidden.stderr).toContain('missing permission to apply Deployment/heart-disease-api in namespace hd (403 Forbidden)');
      expect(forbidden.stderr).toContain('cannot patch resource "deployments" in API group "apps" in the namespace "hd"');
      expect(forbidden.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await standIn.stop();
    }
  });
});
