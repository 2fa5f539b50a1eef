/**
 * The API against NVIDIA's official Triton HTTP client (tritonclient[http] from PyPI): an independent Open
 * Inference Protocol implementation, so this checks wire compatibility, not our reading of the spec.
 * Install: bash test/api/support/install-oip-client.sh (own virtualenv, ~30 s).
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { realComponent } from '../support/real-component.js';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';
import { readCard } from './support/model.js';

const PYTHON = process.env.OIP_CLIENT_PYTHON ?? '/opt/heart-disease/oip-client-venv/bin/python';
const probe = spawnSync(PYTHON, ['-c', 'import tritonclient.http'], { encoding: 'utf8' });
const available = realComponent(
  'tritonclient (Python)',
  probe.status === 0,
  `${PYTHON} cannot import tritonclient.http (run bash test/api/support/install-oip-client.sh)`,
);

interface ClientView {
  live: boolean;
  ready: boolean;
  model_ready: boolean;
  server: { name: string };
  metadata: { name: string; platform: string; inputs: { name: string; datatype: string; shape: number[] }[] };
  response: { id: string; model_name: string; model_version: string };
  label: number[];
  probabilities: number[][];
  bad_shape_error: string | null;
}

describe.runIf(available)('Triton HTTP client (tritonclient[http]) against the API', () => {
  let api: RunningApp;
  beforeAll(async () => {
    api = await startApp();
  });
  afterAll(() => api?.close());

  it('health, metadata and inference work through the official client; results equal /predict', async () => {
    const other: Record<string, number> = { ...PATIENT, age: 45, sex: 0, cp: 3, oldpeak: 0 };
    const rows = [PATIENT, other].map((p) => FEATURE_NAMES.map((n) => p[n]!));
    // Asynchronous: the API runs in this process and must keep answering while the client talks to it.
    const run = await promisify(execFile)(
      PYTHON,
      [path.join(import.meta.dirname, 'support/oip_client.py'), new URL(api.url).host, JSON.stringify(rows)],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const view = JSON.parse(run.stdout) as ClientView;
    expect([view.live, view.ready, view.model_ready]).toEqual([true, true, true]);
    expect(view.server.name).toBe('heart-disease-api');
    expect(view.metadata).toMatchObject({
      name: 'heart-disease',
      platform: 'onnxruntime',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 13] }],
    });
    expect(view.response).toMatchObject({ id: 'triton-client-1', model_name: 'heart-disease', model_version: readCard().modelVersion });
    for (const [i, patient] of [PATIENT, other].entries()) {
      const direct = await postJson(`${api.url}/predict`, patient);
      expect(view.label[i]).toBe(direct.body.label);
      expect(view.probabilities[i]![1]).toBeCloseTo(direct.body.probability, 6);
    }
    expect(view.bad_shape_error).toContain('shape must be [N, 13]');
  });
});
