import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listLocalRuns, newRunId, readLocalRun, recordLocalRun } from '../../src/train/tracking/local-store.js';

let tmp: string;
let runsDir: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hd-local-store-'));
  runsDir = path.join(tmp, 'runs');
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function makeFile(name: string, content: string | Uint8Array): Promise<string> {
  const file = path.join(tmp, name);
  await writeFile(file, content);
  return file;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('local run store', () => {
  it('writes params, metrics, meta and artifact copies that read back identically', async () => {
    const onnxBytes = new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256));
    const onnx = await makeFile('model.onnx', onnxBytes);
    const json = await makeFile('model.json', JSON.stringify({ modelVersion: 'x' }));
    const params = { seed: 42, selectedModel: 'logistic_regression', models: { logistic_regression: { C: 0.5, penalty: 'l2' } } };
    const metrics = { holdout: { auc: 0.912, accuracy: 0.85 }, cv: { auc_mean: 0.9 } };
    const startTime = new Date('2026-11-23T08:00:00.000Z');

    const { runId, dir } = await recordLocalRun(
      runsDir,
      { runName: 'train-lr', params, metrics, tags: { trigger: 'test' }, artifactFiles: [onnx, json], startTime },
      { cwd: process.cwd() },
    );

    expect(dir).toBe(path.join(runsDir, runId));
    expect(runId).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/);
    const run = await readLocalRun(runsDir, runId);
    expect(run.params).toEqual(params);
    expect(run.metrics).toEqual(metrics);
    expect(run.meta.runName).toBe('train-lr');
    expect(run.meta.status).toBe('FINISHED');
    expect(run.meta.startTime).toBe(startTime.toISOString());
    expect(Date.parse(run.meta.endTime)).toBeGreaterThanOrEqual(Date.parse(run.meta.startTime));
    expect(run.meta.tags).toEqual({ trigger: 'test' });

    const expectedCommit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    expect(run.meta.gitCommit).toBe(expectedCommit);
    expect(typeof run.meta.gitDirty).toBe('boolean');

    expect(run.meta.artifacts.map((a) => a.name)).toEqual(['model.onnx', 'model.json']);
    const copied = await readFile(path.join(dir, 'artifacts', 'model.onnx'));
    expect(Buffer.compare(copied, Buffer.from(onnxBytes))).toBe(0);
    expect(run.meta.artifacts[0]).toEqual({ name: 'model.onnx', path: 'artifacts/model.onnx', bytes: 4096, sha256: sha256(onnxBytes) });
    expect(await readdir(path.join(dir, 'artifacts'))).toEqual(expect.arrayContaining(['model.onnx', 'model.json']));
  });

  it('orders run ids by time and lists only complete runs', async () => {
    const times = ['2026-11-23T10:00:00.000Z', '2026-11-23T09:00:00.000Z', '2026-11-24T00:00:00.000Z'].map((t) => new Date(t));
    const ids: string[] = [];
    for (const t of times) {
      const { runId } = await recordLocalRun(
        runsDir,
        { runName: 'r', params: {}, metrics: { auc: 0.5 } },
        { gitCommit: null, now: () => t },
      );
      ids.push(runId);
    }
    const listed = await listLocalRuns(runsDir);
    expect(listed).toEqual([ids[1], ids[0], ids[2]]);
    expect(listed[0]!.startsWith('20261123T090000000Z-')).toBe(true);
    expect(newRunId(new Date('2026-01-02T03:04:05.006Z'))).toMatch(/^20260102T030405006Z-[0-9a-f]{6}$/);
    expect((await readLocalRun(runsDir, ids[0]!)).meta.gitCommit).toBeNull();
  });

  it('rejects a non-finite metric naming it, and leaves no run directory', async () => {
    await expect(
      recordLocalRun(runsDir, { runName: 'bad', params: {}, metrics: { holdout: { auc: Number.NaN } } }, { gitCommit: null }),
    ).rejects.toThrow('metrics.holdout.auc: must be a finite number, got NaN');
    expect(await listLocalRuns(runsDir)).toEqual([]);
  });

  it('fails on a missing artifact file without leaving a partial run behind', async () => {
    const missing = path.join(tmp, 'nope', 'model.onnx');
    await expect(
      recordLocalRun(runsDir, { runName: 'r', params: {}, metrics: {}, artifactFiles: [missing] }, { gitCommit: null }),
    ).rejects.toThrow(`artifactFiles: cannot read ${missing} (ENOENT)`);
    expect(await readdir(runsDir)).toEqual([]);
  });

  it('rejects two artifacts with the same base name and bad keys', async () => {
    const a = await makeFile('model.json', '{}');
    await expect(
      recordLocalRun(runsDir, { runName: 'r', params: {}, metrics: {}, artifactFiles: [a, a] }, { gitCommit: null }),
    ).rejects.toThrow('artifactFiles: two files share the base name model.json');
    await expect(recordLocalRun(runsDir, { runName: 'r', params: { 'bad:key': 1 }, metrics: {} }, { gitCommit: null })).rejects.toThrow(
      "params.bad:key: key may contain only letters, digits, '_', '-', '.', ' ' and '/'",
    );
    await expect(recordLocalRun(runsDir, { runName: ' ', params: {}, metrics: {} })).rejects.toThrow('runName: must be a non-empty string');
  });
});
