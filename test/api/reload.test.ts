import { copyFileSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { PATIENT, testConfig } from './support/app.js';
import { copyModelDir, randomForestModelDir, testModelDir } from './support/model.js';
import { parseSamples, sampleValue } from './support/prometheus-text.js';

/**
 * Model reload (what SIGHUP triggers, via app.reloadModel): a sound new model replaces the old one atomically;
 * a broken one is refused, logged and counted, and the old one keeps serving.
 */
describe('model reload', () => {
  let app: FastifyInstance;
  let dir: string;
  let rfDir: string;
  const logs: Record<string, unknown>[] = [];
  const original = testModelDir();

  const predict = async () => {
    const res = await app.inject({ method: 'POST', url: '/predict', payload: PATIENT });
    return { status: res.statusCode, body: res.json() as { modelVersion: string; probability: number } };
  };
  const metrics = async () => parseSamples((await app.inject({ url: '/metrics' })).body);
  const restore = () => {
    for (const file of ['model.onnx', 'model.json']) copyFileSync(path.join(original, file), path.join(dir, file));
  };
  const servedVersion = async () => ((await app.inject({ url: '/model' })).json() as { modelVersion: string }).modelVersion;

  beforeAll(async () => {
    dir = copyModelDir();
    rfDir = randomForestModelDir();
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    app = await buildApp(testConfig({ MODEL_DIR: dir, LOG_LEVEL: 'info' }), { logStream });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(rfDir, { recursive: true, force: true });
  });

  it('a good new model (the random forest) is swapped in: version, predictions, metrics and V2 metadata change', async () => {
    const before = await predict();
    const oldVersion = before.body.modelVersion;
    for (const file of ['model.onnx', 'model.json']) copyFileSync(path.join(rfDir, file), path.join(dir, file));
    const result = await app.reloadModel();
    expect(result).toMatchObject({ ok: true, previousVersion: oldVersion, version: `${oldVersion}-rf` });
    const after = await predict();
    expect(after.body.modelVersion).toBe(`${oldVersion}-rf`);
    expect(await servedVersion()).toBe(`${oldVersion}-rf`);
    // A different graph answers: the forest's probability differs from the regression's.
    expect(after.body.probability).not.toBeCloseTo(before.body.probability, 3);
    const samples = await metrics();
    expect(sampleValue(samples, 'hd_model_info', { version: `${oldVersion}-rf`, model: 'random_forest' })).toBe(1);
    expect(samples.filter((s) => s.name === 'hd_model_info')).toHaveLength(1);
    expect(sampleValue(samples, 'hd_model_reloads_total', { result: 'success' })).toBe(1);
    const v2 = (await app.inject({ url: '/v2/models/heart-disease' })).json() as { versions: string[] };
    expect(v2.versions).toEqual([`${oldVersion}-rf`]);
    expect(logs.some((l) => l.msg === 'model reloaded' && l.version === `${oldVersion}-rf`)).toBe(true);
    restore();
    expect((await app.reloadModel()).ok).toBe(true);
  });

  const broken: [string, () => void, RegExp][] = [
    ['truncated model.onnx', () => truncateSync(path.join(dir, 'model.onnx'), 100), /model\.onnx/],
    ['model.onnx that is not ONNX', () => writeFileSync(path.join(dir, 'model.onnx'), 'not a model'), /model\.onnx/],
    ['missing model.onnx', () => unlinkSync(path.join(dir, 'model.onnx')), /model\.onnx/],
    ['model.json that is not JSON', () => writeFileSync(path.join(dir, 'model.json'), '{"modelVersion": '), /model\.json/],
    [
      'model.json for another feature schema',
      () => {
        const card = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
          modelVersion: string;
          schema: { features: { name: string }[] };
        };
        card.modelVersion = 'other-schema';
        card.schema.features[0]!.name = 'age_years';
        writeFileSync(path.join(dir, 'model.json'), JSON.stringify(card));
      },
      /schema/,
    ],
  ];

  it.each(broken)('a broken model (%s) is refused, logged and counted; the old one keeps serving', async (_name, breakIt, reason) => {
    const version = await servedVersion();
    const failuresBefore = sampleValue(await metrics(), 'hd_model_reloads_total', { result: 'failure' });
    breakIt();
    const result = await app.reloadModel();
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(reason);
    expect(await servedVersion()).toBe(version);
    const res = await predict();
    expect(res.status).toBe(200);
    expect(res.body.modelVersion).toBe(version);
    expect((await app.inject({ url: '/ready' })).statusCode).toBe(200);
    expect(sampleValue(await metrics(), 'hd_model_reloads_total', { result: 'failure' })).toBe(failuresBefore + 1);
    expect(logs.some((l) => l.msg?.toString().includes('reload refused') && reason.test(String(l.error)))).toBe(true);
    restore();
  });

  it('requests in flight during a reload all succeed, each answered by the old or the new model', async () => {
    const oldVersion = await servedVersion();
    for (const file of ['model.onnx', 'model.json']) copyFileSync(path.join(rfDir, file), path.join(dir, file));
    const requests = Array.from({ length: 200 }, () => predict());
    const reload = app.reloadModel();
    const answers = await Promise.all(requests);
    expect((await reload).ok).toBe(true);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const versions = new Set(answers.map((a) => a.body.modelVersion));
    for (const v of versions) expect([oldVersion, `${oldVersion}-rf`]).toContain(v);
    expect((await predict()).body.modelVersion).toBe(`${oldVersion}-rf`);
    restore();
    await app.reloadModel();
  });
});
