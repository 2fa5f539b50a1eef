/**
 * Serving from the MLflow registry, end to end on a real `mlflow server` and the real API process:
 * training registers v1 and v2 (Cleveland data, seeds 42 and 7), the API serves models:/heart-disease-risk@champion;
 * moving the alias swaps the model while clients keep predicting (no failed request, no restart); versions the
 * registry serves corrupt (a graph model.json does not name, a file that is not ONNX) are refused and counted while
 * the current model serves on; an unreachable registry at start stops the API, during polling it does not.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { REGISTRY } from '../../src/contract/artifact-contract.js';
import type { ModelCard } from '../../src/contract/model-card.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { setAlias } from '../../src/mlflow/registry.js';
import { cardWith, registerModelFiles } from '../support/mlflow-registry.js';
import { clevelandFile } from '../support/paths.js';
import { realComponent } from '../support/real-component.js';
import { runTrainCli, runTs } from '../support/run-cli.js';
import { freePort, mlflowAvailable, startMlflowServer, type RunningMlflow } from '../tracking/mlflow-server.js';
import { PATIENT, testConfig } from './support/app.js';
import { testModelDir } from './support/model.js';
import { parseSamples, sampleValue } from './support/prometheus-text.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const MODEL_URI = `models:/${REGISTRY.modelName}@${REGISTRY.aliases.champion}`;

interface Trained {
  /** Registry version number. */
  version: string;
  card: ModelCard;
}

interface ModelInfo {
  modelVersion: string;
  source: {
    kind: string;
    uri?: string;
    name?: string;
    alias?: string | null;
    version?: string;
    runId?: string | null;
    downloadedAt?: string;
    checkedAt: string | null;
    lastFailure: { reason: string; version: string | null; message: string; at: string } | null;
  };
}

/** Poll `check` until it holds; the bound is generous (a loaded machine), never a timing assertion. */
async function waitFor(what: string, check: () => Promise<boolean>, describeState: () => string = () => '', timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${describeState()}`);
}

interface Answer {
  client: number;
  status: number | 'error';
  version?: string;
  error?: string;
}

/** `clients` concurrent loops of POST /predict until `stop()` is true. */
function runLoad(url: string, clients: number, stop: () => boolean): { answers: Answer[]; done: Promise<void> } {
  const answers: Answer[] = [];
  const body = JSON.stringify(PATIENT);
  const loop = async (client: number) => {
    while (!stop()) {
      try {
        const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const json = (await res.json()) as { modelVersion?: string };
        answers.push({ client, status: res.status, version: json.modelVersion });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        answers.push({ client, status: 'error', error: cause?.code ?? String(error) });
      }
    }
  };
  return { answers, done: Promise.all(Array.from({ length: clients }, (_, i) => loop(i))).then(() => undefined) };
}

const probe = mlflowAvailable();

describe.runIf(realComponent('mlflow', probe.available, probe.reason))('serving from the MLflow registry (real mlflow server)', () => {
  let mlflow: RunningMlflow;
  let client: MlflowClient;
  let work: string;
  let v1: Trained;
  let v2: Trained;
  let api: ServerProcess;

  const train = async (seed: string): Promise<Trained> => {
    const out = path.join(work, `seed-${seed}`);
    const result = await runTrainCli(['--data', clevelandFile, '--out', out, '--runs-dir', path.join(work, 'runs'), '--seed', seed], {
      MLFLOW_TRACKING_URI: mlflow.uri,
    });
    expect(result.code, result.stderr).toBe(0);
    const version = /\(registered model version (\d+)\)/.exec(result.stdout)?.[1];
    expect(version, result.stdout).toBeDefined();
    return { version: version!, card: JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8')) as ModelCard };
  };
  const get = async <T>(route: string) => (await (await fetch(`${api.url}${route}`)).json()) as T;
  const metrics = async () => parseSamples(await (await fetch(`${api.url}/metrics`)).text());
  const failures = async (reason: string) => sampleValue(await metrics(), 'hd_model_source_failures_total', { reason });
  const predictOnce = async () => {
    const res = await fetch(`${api.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(PATIENT),
    });
    return { status: res.status, body: (await res.json()) as { modelVersion: string } };
  };
  const apiLog = () => `; API output:\n${api.output().slice(-3000)}`;
  /** Two more completed checks after now: enough to see that a refused version is not fetched again. */
  const twoMoreChecks = async () => {
    for (let i = 0; i < 2; i++) {
      const before = (await get<ModelInfo>('/model')).source.checkedAt;
      await waitFor('another registry check', async () => (await get<ModelInfo>('/model')).source.checkedAt !== before, apiLog);
    }
  };

  beforeAll(async () => {
    mlflow = await startMlflowServer();
    client = new MlflowClient({ trackingUri: mlflow.uri });
    work = await mkdtemp(path.join(os.tmpdir(), 'hd-registry-serving-'));
    v1 = await train('42');
    v2 = await train('7');
    await setAlias(client, REGISTRY.modelName, REGISTRY.aliases.champion, v1.version);
    api = await startServerProcess({
      MODEL_URI,
      MLFLOW_TRACKING_URI: mlflow.uri,
      MODEL_POLL_INTERVAL_S: '1',
      MODEL_CACHE_DIR: path.join(work, 'cache'),
      // Nothing here: whatever the API serves came from the registry.
      MODEL_DIR: path.join(work, 'no-model-here'),
    });
  });
  afterAll(async () => {
    await api?.stop();
    await mlflow?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('serves v1 from @champion and says where it came from', async () => {
    expect(v1.card.modelVersion).not.toBe(v2.card.modelVersion);
    const info = await get<ModelInfo>('/model');
    expect(info.modelVersion).toBe(v1.card.modelVersion);
    expect(info.source).toMatchObject({
      kind: 'registry',
      uri: MODEL_URI,
      name: REGISTRY.modelName,
      alias: REGISTRY.aliases.champion,
      version: v1.version,
      lastFailure: null,
    });
    expect(info.source.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.parse(info.source.downloadedAt!)).not.toBeNaN();
    expect((await predictOnce()).body.modelVersion).toBe(v1.card.modelVersion);
    // The downloaded files sit in this instance's cache directory, one directory per version.
    const [instance] = await readdir(path.join(work, 'cache'));
    expect(await readdir(path.join(work, 'cache', instance!))).toEqual([v1.version]);
  });

  it('moving @champion to v2 swaps the model without a restart while 4 clients keep predicting: 0 failed requests', async () => {
    const pid = api.child.pid;
    let stopping = false;
    const load = runLoad(api.url, 4, () => stopping);
    // Load first, then the move: requests are in flight when the swap happens.
    await waitFor('the load to start', async () => load.answers.length >= 20);
    await setAlias(client, REGISTRY.modelName, REGISTRY.aliases.champion, v2.version);
    const v2Answers = () => load.answers.filter((a) => a.version === v2.card.modelVersion);
    // Every client must get v2 answers after the swap, and keep getting them.
    await waitFor(
      'every client to get 20 answers from v2',
      async () => [0, 1, 2, 3].every((c) => v2Answers().filter((a) => a.client === c).length >= 20),
      apiLog,
    );
    stopping = true;
    await load.done;

    const byVersion = (v: string) => load.answers.filter((a) => a.version === v).length;
    console.info(
      `[registry swap] ${load.answers.length} requests from 4 clients: ${byVersion(v1.card.modelVersion)} answered by v1, ${byVersion(v2.card.modelVersion)} by v2`,
    );
    const failed = load.answers.filter((a) => a.status !== 200);
    expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
    const versions = new Set(load.answers.map((a) => a.version));
    expect(versions).toEqual(new Set([v1.card.modelVersion, v2.card.modelVersion]));
    // Each client's requests are sequential: once it saw v2 it never saw v1 again (the swap is atomic).
    for (const c of [0, 1, 2, 3]) {
      const seen = load.answers.filter((a) => a.client === c).map((a) => a.version);
      const firstV2 = seen.indexOf(v2.card.modelVersion);
      expect(firstV2).toBeGreaterThan(-1);
      expect(seen.slice(firstV2).every((v) => v === v2.card.modelVersion)).toBe(true);
    }
    expect(api.child.pid).toBe(pid);
    expect(api.child.exitCode).toBeNull();
    const info = await get<ModelInfo>('/model');
    expect(info).toMatchObject({ modelVersion: v2.card.modelVersion, source: { version: v2.version, lastFailure: null } });
    const samples = await metrics();
    expect(sampleValue(samples, 'hd_model_reloads_total', { result: 'success' })).toBe(1);
    expect(sampleValue(samples, 'hd_model_info', { version: v2.card.modelVersion, model: v2.card.selectedModel })).toBe(1);
    expect(api.output()).toMatch(/"msg":"model reloaded"/);
    // Only the version being served stays on disk.
    const [instance] = await readdir(path.join(work, 'cache'));
    expect(await readdir(path.join(work, 'cache', instance!))).toEqual([v2.version]);
  });

  it('a v3 whose model.onnx is not the graph model.json names is refused: v2 keeps serving, counted once, shown in /model', async () => {
    const v1Onnx = await readFile(path.join(work, 'seed-42', 'model.onnx'));
    // v1's graph under v2's card: each file is sound, but they do not belong together.
    const v3 = await registerModelFiles(client, { 'model.onnx': v1Onnx, 'model.json': JSON.stringify(v2.card) });
    await setAlias(client, REGISTRY.modelName, REGISTRY.aliases.champion, v3.version);
    await waitFor('the digest refusal to be counted', async () => (await failures('digest')) === 1, apiLog);

    const answer = await predictOnce();
    expect(answer.status).toBe(200);
    expect(answer.body.modelVersion).toBe(v2.card.modelVersion);
    const info = await get<ModelInfo>('/model');
    expect(info.source.version).toBe(v2.version);
    expect(info.source.lastFailure).toMatchObject({ reason: 'digest', version: v3.version });
    expect(info.source.lastFailure!.message).toContain(
      `${MODEL_URI} → version ${v3.version}: models:/${REGISTRY.modelName}/${v3.version}/model.onnx has sha256`,
    );
    // A refused version is not downloaded again at every poll: the count stays at one.
    await twoMoreChecks();
    expect(await failures('digest')).toBe(1);
    // Logged once, one JSON line, no stack.
    const refusals = api
      .output()
      .split('\n')
      .filter((line) => line.includes('model reload refused (digest)'));
    expect(refusals).toHaveLength(1);
    expect(JSON.parse(refusals[0]!)).toMatchObject({
      level: 50,
      reason: 'digest',
      candidateVersion: v3.version,
      keptVersion: v2.card.modelVersion,
    });
    expect(refusals[0]).not.toContain('stack');
  });

  it('a v4 whose model.onnx is not ONNX at all (digest consistent) fails the load probe: refused, v2 serves on, counted', async () => {
    const garbage = Buffer.from('this is not an ONNX graph');
    const v4 = await registerModelFiles(client, { 'model.onnx': garbage, 'model.json': cardWith(v2.card, garbage) });
    await setAlias(client, REGISTRY.modelName, REGISTRY.aliases.champion, v4.version);
    await waitFor('the load refusal to be counted', async () => (await failures('load')) === 1, apiLog);
    expect((await predictOnce()).body.modelVersion).toBe(v2.card.modelVersion);
    const samples = await metrics();
    expect(sampleValue(samples, 'hd_model_reloads_total', { result: 'failure' })).toBe(1);
    expect(sampleValue(samples, 'hd_model_source_failures_total', { reason: 'digest' })).toBe(1);
    expect((await get<ModelInfo>('/model')).source.lastFailure).toMatchObject({ reason: 'load', version: v4.version });
    await twoMoreChecks();
    expect(await failures('load')).toBe(1);
    // The refused download was deleted; only v2's files remain.
    const [instance] = await readdir(path.join(work, 'cache'));
    expect(await readdir(path.join(work, 'cache', instance!))).toEqual([v2.version]);
  });

  it('start-up: a champion the API cannot serve stops it with the reason, even with a good model in MODEL_DIR (no fallback)', async () => {
    // @champion is v4 (not ONNX) now.
    const env = {
      MODEL_URI,
      MLFLOW_TRACKING_URI: mlflow.uri,
      MODEL_DIR: testModelDir(),
      HOST: '127.0.0.1',
      PORT: '0',
      MODEL_CACHE_DIR: path.join(work, 'cache'),
    };
    const broken = await runTs('src/api/server.ts', [], env);
    expect(broken.code).toBe(1);
    const fatal = JSON.parse(broken.stderr.trim().split('\n').pop()!) as { level: string; msg: string; modelUri: string };
    expect(fatal).toMatchObject({ level: 'fatal', modelUri: MODEL_URI });
    expect(fatal.msg).toMatch(/^cannot start: cannot load .*model\.onnx/);

    const unknownAlias = await runTs('src/api/server.ts', [], { ...env, MODEL_URI: `models:/${REGISTRY.modelName}@nobody` });
    expect(unknownAlias.code).toBe(1);
    expect(unknownAlias.stderr).toMatch(
      /cannot start: models:\/heart-disease-risk@nobody: MLflow get model heart-disease-risk@nobody failed: HTTP 400/,
    );

    const port = await freePort(); // nothing listens there
    const unreachable = await runTs('src/api/server.ts', [], { ...env, MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}` });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(
      `cannot start: ${MODEL_URI}: MLflow get model heart-disease-risk@champion: tracking server http://127.0.0.1:${port} is unreachable (ECONNREFUSED)`,
    );
  });

  it('in process: a pinned version is never polled; SIGHUP checks an alias at once; closing removes the cache', async () => {
    const cacheDir = await mkdtemp(path.join(work, 'in-process-'));
    const mlflowEnv = {
      MLFLOW_TRACKING_URI: mlflow.uri,
      MODEL_CACHE_DIR: cacheDir,
      MODEL_POLL_INTERVAL_S: '0',
      MODEL_DIR: path.join(work, 'none'),
    };
    const pinned = await buildApp(testConfig({ ...mlflowEnv, MODEL_URI: `models:/${REGISTRY.modelName}/${v1.version}` }));
    try {
      const info = (await pinned.inject({ url: '/model' })).json() as ModelInfo;
      expect(info).toMatchObject({ modelVersion: v1.card.modelVersion, source: { kind: 'registry', alias: null, version: v1.version } });
      expect(await pinned.reloadModel()).toEqual({
        ok: true,
        changed: false,
        previousVersion: v1.card.modelVersion,
        version: v1.card.modelVersion,
      });
    } finally {
      await pinned.close();
    }
    await setAlias(client, REGISTRY.modelName, 'challenger', v1.version);
    const following = await buildApp(testConfig({ ...mlflowEnv, MODEL_URI: `models:/${REGISTRY.modelName}@challenger` }));
    const sampleCount = async () => ((await following.inject({ url: '/drift/status' })).json() as { sampleCount: number }).sampleCount;
    try {
      for (let i = 0; i < 3; i++) await following.inject({ method: 'POST', url: '/predict', payload: PATIENT });
      expect(await sampleCount()).toBe(3);
      await setAlias(client, REGISTRY.modelName, 'challenger', v2.version);
      // Polling is off (0): only the check SIGHUP asks for sees the move.
      expect(await following.reloadModel()).toEqual({
        ok: true,
        changed: true,
        previousVersion: v1.card.modelVersion,
        version: v2.card.modelVersion,
      });
      const predicted = await following.inject({ method: 'POST', url: '/predict', payload: PATIENT });
      expect((predicted.json() as { modelVersion: string }).modelVersion).toBe(v2.card.modelVersion);
      // The drift window starts afresh with the new model's reference, as on a SIGHUP reload of MODEL_DIR.
      expect(await sampleCount()).toBe(1);
    } finally {
      await following.close();
    }
    expect(await readdir(cacheDir)).toEqual([]);
    expect(existsSync(cacheDir)).toBe(true);
  });

  it('MLflow unreachable during polling: the API keeps serving v2, counts and shows the failure', async () => {
    await mlflow.stop();
    await waitFor('an unreachable check to be counted', async () => (await failures('unreachable')) >= 1, apiLog);
    const answer = await predictOnce();
    expect(answer).toMatchObject({ status: 200, body: { modelVersion: v2.card.modelVersion } });
    expect((await fetch(`${api.url}/ready`)).status).toBe(200);
    const info = await get<ModelInfo>('/model');
    expect(info.source.version).toBe(v2.version);
    expect(info.source.lastFailure).toMatchObject({ reason: 'unreachable', version: null });
    expect(info.source.lastFailure!.message).toMatch(/is unreachable \(ECONNREFUSED\)/);
    expect(api.child.exitCode).toBeNull();
  });
});
