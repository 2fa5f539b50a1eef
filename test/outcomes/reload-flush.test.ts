/**
 * A model reload writes the previous model's queued predictions before the new model's arrive: with a log that never
 * flushes by itself, predictions made before a reload are in the store right after it, under the old version.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PATIENT, postJson, startApp } from '../api/support/app.js';
import { copyModelDir, randomForestModelDir } from '../api/support/model.js';

describe('model reload flushes the prediction log', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reload-flush-'));
  const modelDir = copyModelDir();
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(modelDir, { recursive: true, force: true });
  });

  it('predictions queued before a reload are written by it, under the model that made them', async () => {
    const server = await startApp({
      MODEL_DIR: modelDir,
      PREDICTION_LOG_PATH: path.join(dir, 'log.sqlite'),
      PREDICTION_LOG_FLUSH_MS: '60000',
      PREDICTION_LOG_BATCH_ROWS: '100000',
    });
    try {
      const before = [];
      for (let i = 0; i < 3; i++) before.push((await postJson(`${server.url}/predict`, PATIENT)).body);
      const store = server.app.predictionLog!.store;
      expect(await store.count()).toBe(0);
      expect(server.app.predictionLog!.queued).toBe(3);

      const rf = randomForestModelDir();
      for (const file of ['model.onnx', 'model.json']) cpSync(path.join(rf, file), path.join(modelDir, file));
      rmSync(rf, { recursive: true, force: true });
      const result = await server.app.reloadModel();
      expect(result).toMatchObject({ ok: true });
      // The flush starts in the swap; it is written before the next prediction's batch could be.
      for (let i = 0; i < 50 && server.app.predictionLog!.queued > 0; i++) await new Promise((r) => setTimeout(r, 20));
      const stored = await store.find(before.map((b) => b.predictionId as string));
      expect(stored.map((r) => r.modelVersion)).toEqual(before.map((b) => b.modelVersion));
      const after = (await postJson(`${server.url}/predict`, PATIENT)).body;
      expect(after.modelVersion).not.toBe(before[0]!.modelVersion);
    } finally {
      await server.close();
    }
  });
});
