import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY } from '../../src/contract/artifact-contract.js';
import { proxiedArtifactPath } from '../../src/mlflow/artifacts.js';
import { MlflowClient, MlflowError } from '../../src/mlflow/client.js';
import { sha256Hex } from '../../src/mlflow/registered-model.js';
import { artifactPathOf, logRunToMlflow, MLFLOW_LIMITS, planLogBatches } from '../../src/train/tracking/mlflow.js';
import { readCard, testModelDir } from '../api/support/model.js';
import { realComponent } from '../support/real-component.js';
import { freePort, mlflowAvailable, startMlflowServer, type RunningMlflow } from './mlflow-server.js';

describe('planLogBatches (MLflow log-batch limits)', () => {
  it('splits 250 params, 150 tags and 2500 metrics into batches within the limits without losing any', () => {
    const params = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, i]));
    const tags = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`t${i}`, `v${i}`]));
    const metrics = Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`m${i}`, i / 7]));
    const batches = planLogBatches(params, metrics, tags, 123);
    for (const b of batches) {
      expect(b.params.length + b.tags.length).toBeLessThanOrEqual(MLFLOW_LIMITS.paramsPerBatch);
      expect(b.metrics.length).toBeLessThanOrEqual(MLFLOW_LIMITS.metricsPerBatch);
      expect(b.params.length + b.tags.length + b.metrics.length).toBeLessThanOrEqual(MLFLOW_LIMITS.entitiesPerBatch);
    }
    expect(batches.flatMap((b) => b.params).map((p) => p.key)).toEqual(Object.keys(params));
    expect(batches.flatMap((b) => b.tags).length).toBe(150);
    const sent = batches.flatMap((b) => b.metrics);
    expect(sent.map((m) => m.value)).toEqual(Object.values(metrics));
    expect(sent.every((m) => m.timestamp === 123 && m.step === 0)).toBe(true);
  });

  it('flattens nested params with dots and refuses values MLflow would reject', () => {
    const [batch] = planLogBatches({ models: { lr: { C: 0.5, classWeight: null } }, name: 'x' }, {}, {}, 0);
    expect(batch!.params).toEqual([
      { key: 'models.lr.C', value: '0.5' },
      { key: 'models.lr.classWeight', value: 'null' },
      { key: 'name', value: 'x' },
    ]);
    expect(() => planLogBatches({ big: 'x'.repeat(6001) }, {}, {}, 0)).toThrow(
      'params.big: value is 6001 characters; MLflow accepts at most 6000',
    );
  });

  it('finds the proxied artifact path in the artifact URI forms the server hands out', () => {
    expect(proxiedArtifactPath('mlflow-artifacts:/3/abc/artifacts')).toBe('3/abc/artifacts');
    expect(proxiedArtifactPath('mlflow-artifacts://127.0.0.1:5000/3/abc/artifacts')).toBe('3/abc/artifacts');
    expect(proxiedArtifactPath('http://h:5000/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts')).toBe('3/abc/artifacts');
    expect(() => proxiedArtifactPath('/var/mlruns/3/abc/artifacts')).toThrow(/does not proxy; start the server with --serve-artifacts/);
  });
});

describe('MLflow errors without a server', () => {
  it('names the unreachable server and the step in one line', async () => {
    const port = await freePort(); // nothing listens here
    const error = await logRunToMlflow({
      trackingUri: `http://127.0.0.1:${port}`,
      runName: 'r',
      params: {},
      metrics: { auc: 0.5 },
      registerModel: false,
      gitCommit: null,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowError);
    const message = (error as Error).message;
    expect(message).toBe(
      `MLflow get experiment: tracking server http://127.0.0.1:${port} is unreachable (ECONNREFUSED); is it running and is MLFLOW_TRACKING_URI right?`,
    );
    expect(message).not.toContain('\n');
  });

  it('refuses a tracking URI that is not http(s)', async () => {
    await expect(
      logRunToMlflow({ trackingUri: 'file:./mlruns', runName: 'r', params: {}, metrics: {}, registerModel: false }),
    ).rejects.toThrow('MLFLOW_TRACKING_URI: "file:./mlruns" uses file: but only http(s) tracking servers are supported');
  });

  it('refuses to register when the model artifact is missing, before contacting any server', async () => {
    await expect(
      logRunToMlflow({ trackingUri: 'http://127.0.0.1:9', runName: 'r', params: {}, metrics: {}, artifactFiles: [] }),
    ).rejects.toThrow('artifactFiles: no model.onnx to register as a model version');
    const onnxOnly = [path.join(testModelDir(), 'model.onnx')];
    await expect(
      logRunToMlflow({ trackingUri: 'http://127.0.0.1:9', runName: 'r', params: {}, metrics: {}, artifactFiles: onnxOnly }),
    ).rejects.toThrow('artifactFiles: no model.json to register as a model version');
  });

  it('refuses to register a model.onnx that model.json does not name, before contacting any server', async () => {
    // The random forest's graph beside the selected model's card: a pair that would serve the wrong model.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hd-mlflow-mismatch-'));
    try {
      await writeFile(path.join(dir, 'model.onnx'), await readFile(path.join(testModelDir(), 'model.random_forest.onnx')));
      await writeFile(path.join(dir, 'model.json'), await readFile(path.join(testModelDir(), 'model.json')));
      const artifactFiles = [path.join(dir, 'model.onnx'), path.join(dir, 'model.json')];
      await expect(
        logRunToMlflow({ trackingUri: 'http://127.0.0.1:9', runName: 'r', params: {}, metrics: {}, artifactFiles }),
      ).rejects.toThrow(/^refusing to register the model: artifactFiles\/model\.onnx has sha256 [0-9a-f]{64} .* but model\.json names /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('puts the contract files into the registered directory and any other file at the run root', () => {
    expect(artifactPathOf('/x/model.onnx')).toBe(`${REGISTRY.artifactPath}/model.onnx`);
    expect(artifactPathOf('/x/model.json')).toBe(`${REGISTRY.artifactPath}/model.json`);
    expect(artifactPathOf('/x/report.html')).toBe(`${REGISTRY.artifactPath}/report.html`);
    expect(artifactPathOf('/x/model.random_forest.onnx')).toBe('model.random_forest.onnx');
  });
});

const probe = mlflowAvailable();

describe.runIf(realComponent('mlflow', probe.available, probe.reason))('MLflow tracking against a real mlflow server', () => {
  let server: RunningMlflow;
  let tmp: string;
  let client: MlflowClient;

  beforeAll(async () => {
    server = await startMlflowServer();
    client = new MlflowClient({ trackingUri: server.uri });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hd-mlflow-run-'));
    console.info(`[mlflow] ${probe.reason} ${server.version} answered /health after ${server.startSeconds.toFixed(1)} s on ${server.uri}`);
  });
  afterAll(async () => {
    await server?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  interface RunGet {
    run: {
      info: { run_id: string; run_name: string; status: string; experiment_id: string; artifact_uri: string; start_time: number };
      data: {
        params?: Array<{ key: string; value: string }>;
        metrics?: Array<{ key: string; value: number }>;
        tags?: Array<{ key: string; value: string }>;
      };
    };
  }

  it('logs params, metrics, tags and artifacts, ends the run and registers the model directory', async () => {
    const model = testModelDir();
    const card = readCard(model);
    const files = {
      'model.onnx': await readFile(path.join(model, 'model.onnx')),
      'model.json': await readFile(path.join(model, 'model.json')),
      'report.html': Buffer.from('<!doctype html><title>report</title><p>auc 0.91</p>'),
      'model.random_forest.onnx': await readFile(path.join(model, 'model.random_forest.onnx')),
    };
    const artifactFiles = [];
    for (const [name, bytes] of Object.entries(files)) {
      const file = path.join(tmp, name);
      await writeFile(file, bytes);
      artifactFiles.push(file);
    }
    // 150 hyper-parameters force more than one log-batch request.
    const grid = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`h${i}`, i * 0.25]));
    const params = { seed: 42, selectedModel: 'logistic_regression', grid };
    const metrics = { holdout: { auc: 0.9123, accuracy: 0.8525 }, cv: { auc_mean: 0.9001 } };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const startTime = new Date(Date.now() - 5_000);

    const result = await logRunToMlflow({
      trackingUri: server.uri,
      runName: 'train-logistic_regression',
      params,
      metrics,
      tags: { trigger: 'vitest' },
      artifactFiles,
      startTime,
      localRunId: '20261123T081200123Z-abcdef',
    });

    expect(result.modelVersion).toBe('1');
    expect(result.runUrl).toBe(`${server.uri}/#/experiments/${result.experimentId}/runs/${result.runId}`);

    const got = await client.call<RunGet>('get run', 'GET', '/api/2.0/mlflow/runs/get', new URLSearchParams({ run_id: result.runId }));
    const { info, data } = got.run;
    expect(info.run_name).toBe('train-logistic_regression');
    expect(info.status).toBe('FINISHED');
    expect(info.start_time).toBe(startTime.getTime());
    expect(info.artifact_uri).toBe(result.artifactUri);
    const paramMap = Object.fromEntries((data.params ?? []).map((p) => [p.key, p.value]));
    expect(Object.keys(paramMap).length).toBe(152);
    expect(paramMap.seed).toBe('42');
    expect(paramMap.selectedModel).toBe('logistic_regression');
    expect(paramMap['grid.h149']).toBe(String(149 * 0.25));
    const metricMap = Object.fromEntries((data.metrics ?? []).map((m) => [m.key, m.value]));
    expect(metricMap).toEqual({ 'holdout.auc': 0.9123, 'holdout.accuracy': 0.8525, 'cv.auc_mean': 0.9001 });
    const tagMap = Object.fromEntries((data.tags ?? []).map((t) => [t.key, t.value]));
    expect(tagMap['mlflow.source.git.commit']).toBe(commit);
    expect(tagMap['mlflow.runName']).toBe('train-logistic_regression');
    expect(tagMap.trigger).toBe('vitest');
    expect(tagMap.local_run_id).toBe('20261123T081200123Z-abcdef');

    type Listing = { files?: Array<{ path: string; file_size?: number; is_dir: boolean }> };
    const list = (dir?: string) =>
      client.call<Listing>(
        'list artifacts',
        'GET',
        '/api/2.0/mlflow/artifacts/list',
        new URLSearchParams({ run_id: result.runId, ...(dir && { path: dir }) }),
      );
    const root = await list();
    expect((root.files ?? []).map((f) => [f.path, f.is_dir === true]).sort()).toEqual([
      [REGISTRY.artifactPath, true],
      ['model.random_forest.onnx', false],
    ]);
    const registered = await list(REGISTRY.artifactPath);
    const sizes = Object.fromEntries((registered.files ?? []).map((f) => [f.path, Number(f.file_size)]));
    const contractFiles = { 'model.onnx': files['model.onnx'], 'model.json': files['model.json'], 'report.html': files['report.html'] };
    expect(sizes).toEqual(
      Object.fromEntries(Object.entries(contractFiles).map(([name, bytes]) => [`${REGISTRY.artifactPath}/${name}`, bytes.length])),
    );
    for (const [name, bytes] of Object.entries(contractFiles)) {
      const downloaded = await client.getBytes(
        `download ${name}`,
        `/api/2.0/mlflow-artifacts/artifacts/${proxiedArtifactPath(result.artifactUri)}/${REGISTRY.artifactPath}/${name}`,
      );
      expect(Buffer.compare(Buffer.from(downloaded), bytes)).toBe(0);
    }

    const version = await client.call<{
      model_version: { source: string; run_id: string; status: string; name: string; tags?: Array<{ key: string; value: string }> };
    }>('get model version', 'GET', '/api/2.0/mlflow/model-versions/get', new URLSearchParams({ name: 'heart-disease-risk', version: '1' }));
    expect(version.model_version.source).toBe(`${result.artifactUri}/${REGISTRY.artifactPath}`);
    expect(version.model_version.run_id).toBe(result.runId);
    expect(version.model_version.status).toBe('READY');
    const versionTags = Object.fromEntries((version.model_version.tags ?? []).map((t) => [t.key, t.value]));
    expect(versionTags).toEqual({
      git_commit: commit,
      model_version: card.modelVersion,
      contract_version: '1',
      onnx_sha256: sha256Hex(files['model.onnx']),
    });
    expect(versionTags.onnx_sha256).toBe(card.onnx.sha256);
  });

  it('reuses the experiment and registered model, adding a new version per run', async () => {
    const dir = path.join(tmp, 'second');
    await mkdir(dir, { recursive: true });
    const artifactFiles = [];
    for (const name of ['model.onnx', 'model.json']) {
      await writeFile(path.join(dir, name), await readFile(path.join(testModelDir(), name)));
      artifactFiles.push(path.join(dir, name));
    }
    const first = await logRunToMlflow({ trackingUri: server.uri, runName: 'a', params: {}, metrics: { auc: 0.7 }, artifactFiles });
    const second = await logRunToMlflow({
      trackingUri: server.uri,
      runName: 'b',
      params: {},
      metrics: { auc: 0.8 },
      artifactFiles,
    });
    expect(second.experimentId).toBe(first.experimentId);
    expect(Number(second.modelVersion)).toBe(Number(first.modelVersion) + 1);
    const experiments = await client.call<{ experiments: Array<{ name: string }> }>(
      'search experiments',
      'POST',
      '/api/2.0/mlflow/experiments/search',
      {
        max_results: 100,
        filter: "name = 'heart-disease'",
      },
    );
    expect(experiments.experiments.length).toBe(1);
  });

  it('reports the HTTP status and MLflow error code of a rejected request in one line', async () => {
    const error = await client
      .call('get run', 'GET', '/api/2.0/mlflow/runs/get', new URLSearchParams({ run_id: '0123456789abcdef0123456789abcdef' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowError);
    expect((error as MlflowError).status).toBe(404);
    expect((error as MlflowError).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((error as Error).message).toMatch(
      /^MLflow get run failed: HTTP 404 RESOURCE_DOES_NOT_EXIST: .*0123456789abcdef0123456789abcdef.* \(GET \/api\/2\.0\/mlflow\/runs\/get\)$/,
    );
  });

  it('refuses a deleted experiment with a message saying so', async () => {
    const created = await client.call<{ experiment_id: string }>('create experiment', 'POST', '/api/2.0/mlflow/experiments/create', {
      name: 'gone',
    });
    await client.call('delete experiment', 'POST', '/api/2.0/mlflow/experiments/delete', { experiment_id: created.experiment_id });
    await expect(
      logRunToMlflow({ trackingUri: server.uri, experimentName: 'gone', runName: 'r', params: {}, metrics: {}, registerModel: false }),
    ).rejects.toThrow(`MLflow experiment "gone" (id ${created.experiment_id}) is deleted; restore it or set another experiment name`);
  });
});
