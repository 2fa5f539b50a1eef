/**
 * The chart's retraining CronJob (issue 14, item 4) run for real on the project's cluster (scripts/cluster/up.sh):
 * MLflow and PostgreSQL run on the host, listening on the node address the pods reach it on; v1 trained on Cleveland
 * is @champion; the chart is installed with the dev values plus registry serving from that MLflow, the prediction log
 * on that PostgreSQL (a DATABASE_URL Secret) and retraining on (the trainer image loaded into the node, Cleveland
 * mounted through a claim on a read-only hostPath volume, the schedule suspended). Half of the Hungarian rows go
 * through the NodePort, their outcomes come back through /feedback, every pod reports drift; a Job made from the
 * CronJob retrains and promotes; the API pods (polling the alias) serve v2 while a load runs without a failed
 * request; with the schedule then switched on (helm upgrade) the controller starts a Job, which does nothing: the
 * cool-down, read from MLflow.
 * Only on the project's own cluster: the host's servers are not reachable from `dagger call e2e`'s k3s, which runs
 * test/e2e/deploy.test.ts only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTrainerImage } from '../../scripts/image/build/build-image.js';
import { mlflowAvailable, startMlflowServer, type RunningMlflow } from '../../scripts/lib/mlflow-server.js';
import { docker, dockerEngineStatus, runChecked } from '../../scripts/lib/process.js';
import {
  brierOnRows,
  replayRows,
  sendFeedback,
  splitHungarian,
  trainChampion,
  type Loop,
  type Replayed,
} from '../../scripts/lib/retrain-loop.js';
import { IMAGE_NAME, REGISTRY, TRAINER_IMAGE_NAME } from '../../src/contract/artifact-contract.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { downloadArtifact, listArtifacts, proxiedArtifactPath } from '../../src/mlflow/artifacts.js';
import { getAliases, getModelVersion } from '../../src/mlflow/registry.js';
import { getRun } from '../../src/mlflow/runs.js';
import { findHelm } from '../../src/release/helm.js';
import { clusterConfig, findCluster, type ClusterInfo } from '../support/cluster.js';
import { clevelandFile, hungarianFile } from '../support/paths.js';
import { havePostgres, startPostgres, type PostgresServer } from '../support/postgres.js';
import { realComponent } from '../support/real-component.js';
import { deployCli, devValues, helmUninstall, nodeAddress } from './support/deploy.js';
import { baseImageCandidates, findBaseImage, loadPinned } from './support/images.js';
import { loadLine, startLoad, type Load } from './support/load.js';

const cluster = await findCluster();
const engine = await dockerEngineStatus();
const mlflow = mlflowAvailable();
const ready =
  realComponent('kubernetes cluster', cluster.available, cluster.available ? '' : cluster.reason) &&
  realComponent('helm', findHelm() !== undefined, 'no helm on PATH, HELM_BIN or ~/go/bin (bash scripts/ci/install-helm.sh)') &&
  realComponent('docker', engine.available, engine.reason) &&
  realComponent(
    'the API image',
    (await findBaseImage()) !== undefined,
    `Docker has none of ${baseImageCandidates().join(', ')} (npm run train && npm run image:build)`,
  ) &&
  realComponent('mlflow', mlflow.available, mlflow.reason) &&
  havePostgres();

const RELEASE = 'hd-retrain';
const FULLNAME = `${RELEASE}-heart-disease-api`;
const CRONJOB = `${FULLNAME}-retraining`;
const DATA_MOUNT = '/data';
const namespace = `e2e-retrain-${randomBytes(3).toString('hex')}`;
const dataVolume = `${namespace}-uci-data`;
const eventually = <T>(check: () => Promise<T>, timeout = 120_000, interval = 1000) => vi.waitFor(check, { timeout, interval });
const log = (line: string) => console.log(`retraining CronJob: ${line}`);

describe.runIf(ready)('the retraining CronJob on the real cluster (host MLflow and PostgreSQL)', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'hd-e2e-retrain-'));
  let info: ClusterInfo;
  let core: CoreV1Api;
  let batch: BatchV1Api;
  let server: RunningMlflow | undefined;
  let pg: PostgresServer | undefined;
  let client: MlflowClient;
  let v1: Loop['v1'];
  let split: Loop['split'];
  let nodeUrl: string;
  let replayed: Replayed[] = [];
  let v2: { version: string; modelVersion: string } | undefined;
  /** `npm run deploy` arguments of the install: the chart with the dev values and this test's. */
  let deployArgs: string[] = [];
  /** The image tags this test made (the cluster keeps its own copies until it is wiped). */
  let pinned: string[] = [];

  const kubectl = (args: string[]) => runChecked(info.kubectl, ['--kubeconfig', info.kubeconfig, '--namespace', namespace, ...args]);
  const apiPods = async (): Promise<V1Pod[]> =>
    (
      await core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=api` })
    ).items.filter((pod) => !pod.metadata?.deletionTimestamp && pod.status?.phase === 'Running');
  /** GET <route> of one pod, through the API server's pod proxy (each pod keeps its own drift window and model). */
  const podGet = async <T>(pod: V1Pod, route: string): Promise<T> => {
    const body = await core.connectGetNamespacedPodProxyWithPath({ name: `${pod.metadata!.name}:8000`, namespace, path: route });
    return (typeof body === 'string' ? JSON.parse(body) : body) as T;
  };

  const jobPod = async (job: string) => (await core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` })).items[0];

  /**
   * A Job from the CronJob (as the schedule would make it), run to its end: its wall time, the trigger's JSON line and
   * the whole log. `onRetraining` is called once the trigger has decided to retrain (the log names the champion).
   */
  async function runJob(name: string, onRetraining?: () => void) {
    const started = Date.now();
    await kubectl(['create', 'job', `--from=cronjob/${CRONJOB}`, name]);
    return finishJob(name, started, onRetraining);
  }

  async function finishJob(name: string, started: number, onRetraining?: () => void) {
    const job = await eventually(
      async () => {
        const current = await batch.readNamespacedJob({ name, namespace });
        if (onRetraining && current.status?.active) {
          const pod = await jobPod(name);
          const output = pod ? await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace }).catch(() => '') : '';
          if (output.includes('champion: models:/')) {
            onRetraining();
            onRetraining = undefined;
          }
        }
        if (!current.status?.succeeded && !current.status?.failed) throw new Error(`job ${name} still running`);
        return current;
      },
      420_000,
      1000,
    );
    const seconds = (Date.now() - started) / 1000;
    const output = await core.readNamespacedPodLog({ name: (await jobPod(name))!.metadata!.name!, namespace });
    const line = output
      .trim()
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('{"action"'));
    const decision = line ? (JSON.parse(line) as Record<string, unknown>) : null;
    log(`job ${name} ${job.status?.succeeded ? 'succeeded' : 'FAILED'} in ${seconds.toFixed(1)} s: ${line ?? '(no decision line)'}`);
    // The retraining rule's verdict, clause by clause, as the trainer logged it.
    for (const clause of output.split('\n').filter((l) => /^(decision: | {2}(pass|FAIL) )/.test(l))) log(`  ${clause.trim()}`);
    if (!job.status?.succeeded || !decision) console.log(output.split('\n').slice(-40).join('\n'));
    return { succeeded: job.status?.succeeded === 1, seconds, decision, output };
  }

  beforeAll(async () => {
    if (!cluster.available) return;
    info = cluster.info;
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    batch = cluster.kubeConfig.makeApiClient(BatchV1Api);
    const started = Date.now();
    // The host as the pods reach it: the node address (pod traffic to it stays on the node).
    const host = info.nodeIP;
    const [mlflowServer, pgServer, images] = await Promise.all([
      startMlflowServer(240_000, { host }),
      startPostgres({ host, allowFrom: [clusterConfig('POD_CIDR')] }),
      (async () => {
        const api = await loadPinned((await findBaseImage())!, `${IMAGE_NAME}-e2e`);
        // Built from this checkout (cached layers make an unchanged one quick), so the Job runs the code under test.
        const trainer = await buildTrainerImage({ extraCaCert: process.env.EXTRA_CA_CERT ?? process.env.NODE_EXTRA_CA_CERTS ?? null });
        return { api, trainer: await loadPinned(trainer.tags[0]!, `${TRAINER_IMAGE_NAME}-e2e`) };
      })(),
    ]);
    server = mlflowServer;
    pg = pgServer;
    pinned = [images.api, images.trainer];
    client = new MlflowClient({ trackingUri: server.uri });
    log(`MLflow ${server.version} on ${server.uri}, PostgreSQL on ${host}:${pg.port}, images ${images.api} and ${images.trainer}`);
    v1 = await trainChampion({ workDir: scratch, clevelandFile, mlflowUri: server.uri, client, log });
    split = await splitHungarian(hungarianFile);

    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'prediction-log-db' }, stringData: { DATABASE_URL: pg.createDatabase('predictions') } },
    });
    // The UCI files as a read-only hostPath volume, bound to the claim the chart mounts (retraining.data.existingClaim):
    // the one node is this host, and the chart's own way to hand data to the CronJob is exercised as it is.
    await core.createPersistentVolume({
      body: {
        metadata: { name: dataVolume },
        spec: {
          capacity: { storage: '1Mi' },
          accessModes: ['ReadOnlyMany'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: '',
          hostPath: { path: realpathSync(path.dirname(clevelandFile)), type: 'Directory' },
          claimRef: { namespace, name: 'uci-data' },
        },
      },
    });
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: 'uci-data' },
        spec: { accessModes: ['ReadOnlyMany'], storageClassName: '', volumeName: dataVolume, resources: { requests: { storage: '1Mi' } } },
      },
    });

    const [trainerRepository, trainerTag] = images.trainer.split(':');
    const values = path.join(scratch, 'retraining.yaml');
    writeFileSync(
      values,
      JSON.stringify({
        // A NodePort Kubernetes picks: 30080 belongs to deploy.test.ts's release, which may run at the same time.
        service: { type: 'NodePort', nodePort: null },
        registry: {
          modelUri: `models:/${REGISTRY.modelName}@${REGISTRY.aliases.champion}`,
          trackingUri: server.uri,
          pollIntervalSeconds: 2,
        },
        predictionLog: { databaseUrlSecret: { name: 'prediction-log-db', key: 'DATABASE_URL', port: pg.port } },
        retraining: {
          enabled: true,
          // Jobs are made by hand below; the schedule must not start one meanwhile.
          suspend: true,
          image: { repository: trainerRepository, tag: trainerTag },
          data: { existingClaim: 'uci-data', mountPath: DATA_MOUNT },
          extraArgs: ['--data', `${DATA_MOUNT}/${path.basename(clevelandFile)}`, '--min-labels', '50', '--cooldown', '3600'],
        },
      }),
    );
    deployArgs = [
      '--kubeconfig',
      info.kubeconfig,
      '--namespace',
      namespace,
      '--release',
      RELEASE,
      '--values',
      devValues,
      '--values',
      values,
      '--image',
      images.api,
      '--timeout',
      '180s',
    ];
    const run = await deployCli([...deployArgs, '--model-version', v1.modelVersion]);
    if (run.code !== 0) throw new Error(`npm run deploy failed (exit ${run.code}):\n${run.output.slice(-3000)}`);
    const service = await core.readNamespacedService({ name: FULLNAME, namespace });
    nodeUrl = `http://${nodeAddress}:${service.spec!.ports![0]!.nodePort}`;
    log(`set up in ${((Date.now() - started) / 1000).toFixed(1)} s; the API on ${nodeUrl}`);
  }, 600_000);

  afterAll(async () => {
    if (cluster.available && info) {
      await helmUninstall(info.kubeconfig, namespace, RELEASE);
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await core.deletePersistentVolume({ name: dataVolume }).catch(() => undefined);
    }
    await server?.stop();
    await pg?.stop();
    for (const ref of pinned) await docker(['rmi', ref]);
    rmSync(scratch, { recursive: true, force: true });
  }, 120_000);

  it('every API pod serves v1 from @champion and logs to the host PostgreSQL; the CronJob is suspended', async () => {
    const pods = await apiPods();
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      const model = await podGet<{ modelVersion: string; source: object }>(pod, 'model');
      expect(model.modelVersion).toBe(v1.modelVersion);
      expect(model.source).toMatchObject({
        kind: 'registry',
        alias: REGISTRY.aliases.champion,
        version: v1.version,
        trackingUri: server!.uri,
      });
    }
    const cron = await batch.readNamespacedCronJob({ name: CRONJOB, namespace });
    expect(cron.spec?.suspend).toBe(true);
  });

  it('Hungarian rows through the NodePort, their outcomes through /feedback: every pod reports drift', async () => {
    const { accepted, refused } = await replayRows(nodeUrl, split.replay, true);
    replayed = accepted;
    const fed = await sendFeedback(nodeUrl, accepted);
    expect(fed).toEqual({ recorded: accepted.length });
    const drift = await Promise.all(
      (await apiPods()).map(async (pod) => ({
        pod: pod.metadata!.name,
        ...(await podGet<{ status: string; sampleCount: number }>(pod, 'drift/status')),
      })),
    );
    log(
      `${split.replay.length} Hungarian rows sent to ${nodeUrl}/predict: ${accepted.length} answered, ${refused} refused; ` +
        `${accepted.length} outcomes recorded; /drift/status per pod: ${drift.map((d) => `${d.status} (${d.sampleCount} rows)`).join(', ')}`,
    );
    expect(accepted.length).toBeGreaterThan(100);
    expect(drift.map((d) => d.status)).toEqual(['drift', 'drift']);
  });

  it(
    'a Job from the CronJob retrains and promotes; the pods swap to v2 under load with 0 failed requests; v2 is better on fresh rows',
    { timeout: 600_000 },
    async () => {
      expect(replayed.length).toBeGreaterThan(100);
      // The load starts once the trigger has read /drift/status (its rows would enter the pods' drift windows) and
      // runs through the retraining, the promotion and the swap.
      let load: Load | undefined;
      let report;
      let job;
      try {
        job = await runJob('retrain-now', () => (load = startLoad(nodeUrl, 2)));
        expect(job.succeeded, job.output.slice(-3000)).toBe(true);
        expect(job.decision).toMatchObject({
          action: 'retrained',
          decision: 'promoted',
          championVersion: v1.version,
          drift: 'drift',
          labels: replayed.length,
        });
        const version = String(job.decision!.challengerVersion);
        v2 = {
          version,
          modelVersion: (await getModelVersion(client, REGISTRY.modelName, version)).tags[REGISTRY.versionTags.modelVersion]!,
        };
        expect(v2.modelVersion).not.toBe(v1.modelVersion);
        expect(await getAliases(client, REGISTRY.modelName)).toMatchObject({ [REGISTRY.aliases.champion]: version });
        // The Job's pod and its emptyDirs are gone: the decision report lives on in MLflow, with the challenger's run.
        const root = proxiedArtifactPath((await getRun(client, String(job.decision!.runId))).info.artifact_uri);
        const kept = JSON.parse(Buffer.from(await downloadArtifact(client, root, 'decision.json')).toString()) as { decision: string };
        expect(kept.decision).toBe('promoted');
        expect((await listArtifacts(client, root)).map((a) => a.path)).toEqual(expect.arrayContaining(['decision.html', 'decision.json']));
        const swapStarted = Date.now();
        await eventually(async () => {
          for (const pod of await apiPods())
            expect((await podGet<{ modelVersion: string }>(pod, 'model')).modelVersion).toBe(v2!.modelVersion);
        }, 60_000);
        log(`every API pod serves v2 (${v2.modelVersion}) ${((Date.now() - swapStarted) / 1000).toFixed(1)} s after the Job ended`);
        // A run of answers from v2 through the Service before the load stops.
        await new Promise((resolve) => setTimeout(resolve, 2000));
      } finally {
        report = await load?.stop();
        if (report) log(`load on ${nodeUrl}/predict during the retraining and the swap: ${loadLine(report)}`);
      }
      expect(report).toBeDefined();
      const brier = job!.decision!.brierNewRows as { champion: number; challenger: number };
      log(
        `decision ${String(job!.decision!.decision)} by ${String(job!.decision!.decidedBy)}: registry version ${v1.version} → ${v2.version}; ` +
          `Brier on held-out new rows champion ${brier.champion.toFixed(4)}, challenger ${brier.challenger.toFixed(4)}; job wall time ${job!.seconds.toFixed(1)} s`,
      );
      expect(report!.failures, JSON.stringify(report!.causes)).toBe(0);
      expect(Object.keys(report!.answersByVersion).sort()).toEqual([v1.modelVersion, v2.modelVersion].sort());
      expect(new Set(report!.lastVersions)).toEqual(new Set([v2.modelVersion]));
      // Still the same pods: the model changed in place, no restart.
      for (const pod of await apiPods()) expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);

      const [before, after] = await brierOnRows(client, [v1.version, v2.version], split.fresh, scratch);
      log(
        `${before!.rows} fresh Hungarian rows (never sent, never trained on): Brier v1 ${before!.brier.toFixed(4)}, v2 ${after!.brier.toFixed(4)}`,
      );
      expect(after!.brier).toBeLessThan(before!.brier);
    },
  );

  it(
    'with the schedule on (every minute, helm upgrade, no API rollout) the controller starts a Job, and it does nothing: the cool-down from MLflow',
    { timeout: 480_000 },
    async () => {
      expect(v2).toBeDefined();
      const pods = (await apiPods()).map((pod) => pod.metadata!.name).sort();
      const everyMinute = path.join(scratch, 'every-minute.yaml');
      writeFileSync(everyMinute, JSON.stringify({ retraining: { suspend: false, schedule: '* * * * *' } }));
      const upgraded = Date.now();
      // The Service must still answer with v2: the registry, not the release, decides the model.
      const run = await deployCli([...deployArgs, '--values', everyMinute, '--model-version', v2!.modelVersion]);
      expect(run.code, run.output).toBe(0);
      expect((await apiPods()).map((pod) => pod.metadata!.name).sort()).toEqual(pods);
      const scheduled = await eventually(
        async () => {
          const jobs = await batch.listNamespacedJob({ namespace });
          // `kubectl create job --from` marks its Jobs manual (and owned by the CronJob too): the other one is the schedule's.
          const job = jobs.items.find(
            (j) =>
              j.metadata?.annotations?.['cronjob.kubernetes.io/instantiate'] !== 'manual' &&
              j.metadata?.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === CRONJOB),
          );
          if (!job) throw new Error(`no Job of cronjob/${CRONJOB} yet`);
          return job.metadata!.name!;
        },
        150_000,
        2000,
      );
      log(`the schedule started job ${scheduled} ${((Date.now() - upgraded) / 1000).toFixed(1)} s after the upgrade`);
      const job = await finishJob(scheduled, Date.now());
      expect(job.succeeded, job.output.slice(-3000)).toBe(true);
      expect(job.decision).toMatchObject({ action: 'none', reason: 'cooldown' });
      expect(await getAliases(client, REGISTRY.modelName)).toMatchObject({ [REGISTRY.aliases.champion]: v2!.version });
    },
  );
});
