/**
 * src/mlflow's registry functions and the verified download of a model version, against a real `mlflow server`:
 * aliases set, moved, read and deleted; models:/ URIs resolved; a version's files fetched only when model.json, the
 * graph's digest and the version's tags agree, each refusal naming its reason.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY } from '../../src/contract/artifact-contract.js';
import { MlflowClient, MlflowError } from '../../src/mlflow/client.js';
import { fetchModelVersion, ModelFetchError, sha256Hex, versionTags } from '../../src/mlflow/registered-model.js';
import {
  deleteAlias,
  getAliases,
  getModelVersion,
  getModelVersionByAlias,
  parseModelUri,
  resolveModelUri,
  setAlias,
  setModelVersionTag,
  type ModelVersion,
} from '../../src/mlflow/registry.js';
import { logRunToMlflow } from '../../src/train/tracking/mlflow.js';
import { readCard, testModelDir } from '../api/support/model.js';
import { cardWith, registerModelFiles } from '../support/mlflow-registry.js';
import { realComponent } from '../support/real-component.js';
import { freePort, mlflowAvailable, startMlflowServer, type RunningMlflow } from '../tracking/mlflow-server.js';

describe('parseModelUri', () => {
  it('reads an alias URI and a version URI', () => {
    expect(parseModelUri('models:/heart-disease-risk@champion')).toEqual({
      uri: 'models:/heart-disease-risk@champion',
      name: 'heart-disease-risk',
      alias: 'champion',
      version: null,
    });
    expect(parseModelUri(' models:/my model/12 ')).toEqual({ uri: 'models:/my model/12', name: 'my model', alias: null, version: '12' });
  });

  it.each([
    'models:/heart-disease-risk',
    'models:/heart-disease-risk/latest',
    'models:/heart-disease-risk/0',
    'runs:/abc/model',
    'models:/a/b/1',
    '',
  ])('refuses %j, saying which forms are accepted', (uri) => {
    expect(() => parseModelUri(uri)).toThrow(
      `model URI "${uri}" is not models:/<name>@<alias> or models:/<name>/<version> (e.g. models:/heart-disease-risk@champion)`,
    );
  });
});

describe('fetchModelVersion without a server', () => {
  it('names an unreachable server as the reason', async () => {
    const client = new MlflowClient({ trackingUri: `http://127.0.0.1:${await freePort()}` });
    const version: ModelVersion = {
      name: 'm',
      version: '1',
      source: 'mlflow-artifacts:/1/r/artifacts/model',
      runId: 'r',
      status: 'READY',
      statusMessage: null,
      tags: {},
      aliases: [],
      createdAt: null,
    };
    const error = await fetchModelVersion(client, version, os.tmpdir()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFetchError);
    expect((error as ModelFetchError).reason).toBe('unreachable');
    expect((error as Error).message).toMatch(/is unreachable \(ECONNREFUSED\)/);
  });
});

const probe = mlflowAvailable();

describe.runIf(realComponent('mlflow', probe.available, probe.reason))('the model registry on a real mlflow server', () => {
  let server: RunningMlflow;
  let client: MlflowClient;
  let work: string;
  const model = testModelDir();
  const card = readCard(model);
  let onnx: Buffer;
  let cardText: string;
  /** A sound version registered by training's own code. */
  let good: ModelVersion;

  beforeAll(async () => {
    server = await startMlflowServer();
    client = new MlflowClient({ trackingUri: server.uri });
    work = await mkdtemp(path.join(os.tmpdir(), 'hd-registry-test-'));
    onnx = await readFile(path.join(model, 'model.onnx'));
    cardText = await readFile(path.join(model, 'model.json'), 'utf8');
    const logged = await logRunToMlflow({
      trackingUri: server.uri,
      runName: 'registry-test',
      params: {},
      metrics: {},
      artifactFiles: [path.join(model, 'model.onnx'), path.join(model, 'model.json')],
      gitCommit: null,
    });
    good = await getModelVersion(client, REGISTRY.modelName, logged.modelVersion!);
  });
  afterAll(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const fresh = () => mkdtemp(path.join(work, 'fetch-'));

  it('a version registered by training carries its tags and resolves by number and by alias', async () => {
    expect(good.tags).toEqual(versionTags(card));
    expect(good.status).toBe('READY');
    await setAlias(client, REGISTRY.modelName, REGISTRY.aliases.champion, good.version);
    const byAlias = await resolveModelUri(client, parseModelUri(`models:/${REGISTRY.modelName}@champion`));
    expect(byAlias.version).toBe(good.version);
    expect(byAlias.aliases).toEqual(['champion']);
    const byNumber = await resolveModelUri(client, parseModelUri(`models:/${REGISTRY.modelName}/${good.version}`));
    expect(byNumber).toMatchObject({ version: good.version, runId: good.runId, source: good.source });
  });

  it('aliases move, list and go away', async () => {
    const second = await registerModelFiles(client, { 'model.onnx': onnx, 'model.json': cardText });
    await setAlias(client, REGISTRY.modelName, 'champion', good.version);
    await setAlias(client, REGISTRY.modelName, 'challenger', second.version);
    expect(await getAliases(client, REGISTRY.modelName)).toEqual({ champion: good.version, challenger: second.version });
    // Promotion: champion moves to the challenger's version, challenger is dropped.
    await setAlias(client, REGISTRY.modelName, 'champion', second.version);
    await deleteAlias(client, REGISTRY.modelName, 'challenger');
    expect(await getAliases(client, REGISTRY.modelName)).toEqual({ champion: second.version });
    const missing = await getModelVersionByAlias(client, REGISTRY.modelName, 'challenger').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MlflowError);
    // MLflow answers a missing alias with 400 INVALID_PARAMETER_VALUE, not 404.
    expect((missing as Error).message).toMatch(
      /^MLflow get model heart-disease-risk@challenger failed: HTTP 400 INVALID_PARAMETER_VALUE: .*challenger.* not found/,
    );
    await setAlias(client, REGISTRY.modelName, 'champion', good.version);
  });

  it('fetches a sound version: the two files, byte for byte, and its card', async () => {
    const dir = await fresh();
    const fetched = await fetchModelVersion(client, good, dir);
    expect(fetched.card.modelVersion).toBe(card.modelVersion);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'model.onnx']);
    expect(sha256Hex(await readFile(path.join(dir, 'model.onnx')))).toBe(card.onnx.sha256);
    expect(await readFile(path.join(dir, 'model.json'), 'utf8')).toBe(cardText);
  });

  const refusals: Array<[string, string, () => Promise<ModelVersion>, RegExp]> = [
    [
      'a model.onnx that model.json does not name',
      'digest',
      () => registerModelFiles(client, { 'model.onnx': Buffer.concat([onnx, Buffer.from([0])]), 'model.json': cardText }),
      /model\.onnx has sha256 [0-9a-f]{64} \(\d+ bytes\) but model\.json names [0-9a-f]{64}/,
    ],
    [
      'a consistent pair whose onnx_sha256 tag names other bytes',
      'digest',
      () =>
        registerModelFiles(
          client,
          { 'model.onnx': Buffer.from('other bytes'), 'model.json': cardWith(card, Buffer.from('other bytes')) },
          { tags: { onnx_sha256: card.onnx.sha256 } },
        ),
      /tag onnx_sha256=[0-9a-f]{64} differs from the sha256 of model\.onnx and model\.json/,
    ],
    [
      'a model.json of another contract version',
      'contract',
      () => registerModelFiles(client, { 'model.onnx': onnx, 'model.json': cardWith(card, onnx, { contractVersion: 99 }) }),
      /model\.json follows contract version 99; this program reads contract version 1 only/,
    ],
    [
      'a version tagged with another contract version (refused before any download)',
      'contract',
      () => registerModelFiles(client, { 'model.onnx': onnx, 'model.json': cardText }, { tags: { contract_version: '2' } }),
      /is tagged contract_version=2; this program reads contract version 1 only/,
    ],
    [
      'a model.json that is not JSON',
      'contract',
      () => registerModelFiles(client, { 'model.onnx': onnx, 'model.json': '{"contractVersion": ' }),
      /model\.json is not JSON/,
    ],
    [
      'a version without model.onnx',
      'artifact',
      () => registerModelFiles(client, { 'model.json': cardText }),
      /download model\.onnx failed: HTTP 404/,
    ],
  ];

  it.each(refusals)('refuses %s (reason %s) and writes nothing', async (_name, reason, register, message) => {
    const version = await register();
    const dir = await fresh();
    const error = await fetchModelVersion(client, version, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFetchError);
    expect((error as ModelFetchError).reason).toBe(reason);
    expect((error as ModelFetchError).version).toBe(version.version);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
    expect(await readdir(dir)).toEqual([]);
  });

  it('tags a version (promotion records its decision the same way)', async () => {
    await setModelVersionTag(client, REGISTRY.modelName, good.version, 'promotion', 'champion since test');
    expect((await getModelVersion(client, REGISTRY.modelName, good.version)).tags.promotion).toBe('champion since test');
  });
});
