/**
 * The container image against a real Docker engine: builds it from the Dockerfile (layer cache makes a rebuild
 * cheap), then runs the shared smoke and security checks (scripts/image/check/smoke-checks.ts) and asserts on what they
 * observed. Needs a running engine: scripts/ci/install-docker.sh && scripts/ci/start-docker.sh.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildImage, defaultExtraCaCert, type BuildResult } from '../../scripts/image/build/build-image.js';
import { MAX_IMAGE_BYTES } from '../../scripts/image/check/limits.js';
import { repoRoot } from '../../scripts/lib/model-dir.js';
import { firstClevelandPatient, localPrediction, type Prediction } from '../../scripts/image/check/local-model.js';
import { docker, dockerChecked, dockerEngineStatus } from '../../scripts/lib/process.js';
import {
  PROBABILITY_TOLERANCE,
  runSmoke,
  scanImageForSecrets,
  type CheckResult,
  type SmokeReport,
} from '../../scripts/image/check/smoke-checks.js';
import { runTrainCli } from '../support/run-cli.js';
import { clevelandFile, dataDir } from '../support/paths.js';
import { realComponent } from '../support/real-component.js';

const engine = await dockerEngineStatus();
const modelDir = process.env.IMAGE_TEST_MODEL_DIR ?? 'artifacts';

describe.runIf(realComponent('docker', engine.available, engine.reason))('container image on a real Docker engine', () => {
  let build: BuildResult;
  let report: SmokeReport;
  let expected: Prediction;
  const byName = (name: string): CheckResult => {
    const found = report.checks.find((c) => c.name === name);
    if (!found) throw new Error(`smoke check '${name}' did not run; ran: ${report.checks.map((c) => c.name).join(', ')}`);
    return found;
  };

  beforeAll(async () => {
    if (!existsSync(path.join(repoRoot, modelDir, 'model.onnx'))) {
      const trained = await runTrainCli(['--data', clevelandFile, '--out', modelDir]);
      if (trained.code !== 0) throw new Error(`training for the image test failed: ${trained.stderr}`);
    }
    build = await buildImage({
      modelDir,
      extraCaCert: defaultExtraCaCert(),
    });
    expected = await localPrediction(path.join(repoRoot, modelDir, 'model.onnx'), firstClevelandPatient(dataDir).vector);
    report = await runSmoke({ image: build.tags[0]!, modelDir, dataDir, timingRuns: 0 });
  }, 1_200_000);

  it('tags the image with the model version and latest, within the size budget', () => {
    expect(build.tags).toEqual([expect.stringMatching(/^heart-disease-api:[A-Za-z0-9_.-]+$/), 'heart-disease-api:latest']);
    expect(build.sizeBytes).toBeLessThanOrEqual(MAX_IMAGE_BYTES);
    expect(byName('oci-labels').status, byName('oci-labels').detail).toBe('PASS');
    expect(byName('healthcheck-defined').status).toBe('PASS');
  });

  it('becomes ready and serves /health, /metrics (model info) and /drift/status', () => {
    for (const name of ['ready', 'health', 'metrics-model-info', 'drift-status']) {
      expect(byName(name).status, `${name}: ${byName(name).detail}`).toBe('PASS');
    }
  });

  it('predicts the first Cleveland patient exactly as the local ONNX model does', () => {
    const observed = byName('predict-known-patient').observed as { label: number; probability: number } | undefined;
    expect(observed, byName('predict-known-patient').detail).toBeDefined();
    expect(observed!.label).toBe(expected.label);
    expect(Math.abs(observed!.probability - expected.probability)).toBeLessThanOrEqual(PROBABILITY_TOLERANCE);
  });

  it('runs as a numeric non-root user', () => {
    const check = byName('non-root-user');
    expect(check.status, check.detail).toBe('PASS');
    expect(Number((check.observed as { uid: string }).uid)).toBeGreaterThan(0);
  });

  it('exits 0 within the grace period on SIGTERM (docker stop)', () => {
    const check = byName('sigterm-graceful-exit');
    expect(check.status, check.detail).toBe('PASS');
    expect((check.observed as { exitCode: number }).exitCode).toBe(0);
  });

  it('still serves /predict read-only, with all capabilities dropped and no-new-privileges', () => {
    const check = byName('hardened-run');
    expect(check.status, check.detail).toBe('PASS');
    expect((check.observed as { health: string }).health).toBe('healthy');
  });

  it('serves a model mounted over /app/artifacts', () => {
    expect(byName('model-volume').status, byName('model-volume').detail).toBe('PASS');
  });

  it('contains no secrets or .env files', () => {
    const check = byName('no-secrets-in-image');
    expect(check.status, check.detail).toBe('PASS');
    expect((check.observed as { files: number }).files).toBeGreaterThan(1000);
  });

  it('the secret scan catches a .env planted in a derived image', async () => {
    const context = mkdtempSync(path.join(os.tmpdir(), 'hd-planted-'));
    const tag = 'heart-disease-api-planted-secret:test';
    try {
      writeFileSync(path.join(context, '.env'), 'API_KEYS=not-a-real-key\n');
      writeFileSync(path.join(context, 'Dockerfile'), `FROM ${build.tags[0]}\nCOPY .env /app/.env\n`);
      await dockerChecked(['build', '--quiet', '--tag', tag, context], { env: { DOCKER_BUILDKIT: '0' } });
      const scan = await scanImageForSecrets(tag);
      expect(scan.findings).toContain('app/.env (dotenv file)');
    } finally {
      await docker(['rmi', '--force', tag]);
      rmSync(context, { recursive: true, force: true });
    }
  });

  it('has no high or critical npm audit findings in production dependencies (when the audit endpoint answers)', () => {
    const check = byName('npm-audit-prod');
    if (check.status === 'UNAVAILABLE') console.warn(`[npm audit] ${check.detail}`);
    expect(check.status, check.detail).not.toBe('FAIL');
  });
});
