/**
 * The image smoke test as a list of checks against a real Docker engine. Used by `npm run image:smoke`
 * (prints a verdict) and test/image/image.test.ts (asserts on the same results and observations).
 */
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  SMOKE_LABEL,
  containerLogs,
  removeContainer,
  startContainer,
  stopContainer,
  waitForHealthStatus,
  waitForReady,
  type RunningContainer,
} from './container.js';
import { IMAGE_LABEL_KEYS, MODEL_FILES } from '../../../src/contract/artifact-contract.js';
import { readModelCard, repoRoot } from '../../lib/model-dir.js';
import { MAX_IMAGE_BYTES, STOP_GRACE_S } from './limits.js';
import { runtimeClosure, type Lockfile } from '../build/runtime-packages.js';
import { firstClevelandPatient, localPrediction, type KnownPatient, type Prediction } from './local-model.js';
import { httpText } from '../../lib/http.js';
import { auditProductionDependencies } from './npm-audit.js';
import { dockerChecked, median, runProcess } from '../../lib/process.js';
import { findSecretLikePaths, npmrcHasCredentials, secretLikeEnv } from './secret-scan.js';

export type CheckStatus = 'PASS' | 'FAIL' | 'UNAVAILABLE';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What was actually seen, for tests and for the printed JSON. */
  observed?: Record<string, unknown>;
}

export interface SmokeOptions {
  image: string;
  /** Local model directory (relative to the repo root) the container's answers are compared with. */
  modelDir: string;
  dataDir?: string;
  /** How many fresh starts to time for start-to-ready (0 = skip). */
  timingRuns?: number;
  log?: (line: string) => void;
}

export interface SmokeReport {
  image: string;
  imageId: string;
  sizeBytes: number;
  checks: CheckResult[];
  startToReadyMs: { median: number; samples: number[] } | null;
  verdict: 'PASS' | 'FAIL';
}

export const PROBABILITY_TOLERANCE = 1e-5;
const HARDENED_RUN_ARGS = [
  '--read-only',
  '--tmpfs',
  '/tmp:rw,noexec,nosuid,size=64m',
  '--cap-drop',
  'ALL',
  '--security-opt',
  'no-new-privileges',
];

class CheckFailure extends Error {
  constructor(
    message: string,
    readonly observed?: Record<string, unknown>,
  ) {
    super(message);
  }
}

async function check(
  results: CheckResult[],
  name: string,
  fn: () => Promise<{ detail: string; observed?: Record<string, unknown>; status?: CheckStatus }>,
): Promise<CheckResult> {
  let result: CheckResult;
  try {
    const out = await fn();
    result = { name, status: out.status ?? 'PASS', detail: out.detail, observed: out.observed };
  } catch (err) {
    result = { name, status: 'FAIL', detail: (err as Error).message, observed: err instanceof CheckFailure ? err.observed : undefined };
  }
  results.push(result);
  return result;
}

const http = (url: string, init?: RequestInit) => httpText(url, init, 5000);

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CheckFailure(`${what}: response is not JSON: ${text.slice(0, 200)}`);
  }
}

/** POST /predict for one patient; returns label and P(disease) from the API's answer. */
export async function predictOverHttp(baseUrl: string, patient: KnownPatient): Promise<Prediction & { raw: unknown }> {
  const res = await http(`${baseUrl}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patient.features),
  });
  if (res.status !== 200) throw new CheckFailure(`POST /predict answered ${res.status}: ${res.text.slice(0, 300)}`);
  const body = parseJson(res.text, 'POST /predict') as Record<string, unknown>;
  const label = Number(body.label);
  const probability = Number(body.probability);
  if (!Number.isFinite(label) || !Number.isFinite(probability)) {
    throw new CheckFailure(`POST /predict: expected numeric 'label' and 'probability', got ${res.text.slice(0, 300)}`);
  }
  return { label, probability, raw: body };
}

function comparePrediction(got: Prediction, expected: Prediction): { detail: string; observed: Record<string, unknown> } {
  const difference = Math.abs(got.probability - expected.probability);
  const observed = {
    label: got.label,
    probability: got.probability,
    expectedLabel: expected.label,
    expectedProbability: expected.probability,
    difference,
  };
  if (got.label !== expected.label || !(difference <= PROBABILITY_TOLERANCE)) {
    throw new CheckFailure(
      `container said label=${got.label} p=${got.probability}, local model says label=${expected.label} p=${expected.probability} (|diff|=${difference})`,
      observed,
    );
  }
  return { detail: `label=${got.label} p=${got.probability.toFixed(6)} |diff|=${difference.toExponential(1)}`, observed };
}

interface ImageInspect {
  Id: string;
  Size: number;
  Config: { User?: string; Env?: string[]; Labels?: Record<string, string> | null; Healthcheck?: { Test?: string[] } };
}

async function inspectImage(image: string): Promise<ImageInspect> {
  const out = await dockerChecked(['image', 'inspect', image]);
  const parsed = JSON.parse(out) as ImageInspect[];
  if (!parsed[0]) throw new Error(`docker image inspect ${image}: no such image`);
  return parsed[0];
}

/** Every file path in the image, read from an exported (never started) container. */
async function imageFileListing(image: string): Promise<{ paths: string[]; read: (p: string) => Promise<string> }> {
  const id = (await dockerChecked(['create', '--label', SMOKE_LABEL, image])).trim();
  try {
    const list = await runProcess('bash', ['-o', 'pipefail', '-c', `docker export ${id} | tar -t`], { timeoutMs: 120_000 });
    if (list.code !== 0) throw new Error(`docker export | tar -t failed: ${list.stderr.trim()}`);
    const paths = list.stdout.split('\n').filter(Boolean);
    const npmrcs = paths.filter((p) => p.endsWith('.npmrc') || p.endsWith('/npmrc'));
    const contents = new Map<string, string>();
    for (const p of npmrcs) {
      const out = await runProcess('bash', ['-o', 'pipefail', '-c', `docker cp ${id}:/${p} - | tar -xO`]);
      contents.set(p, out.stdout);
    }
    return { paths, read: async (p) => contents.get(p) ?? '' };
  } finally {
    await removeContainer(id);
  }
}

/** Secret-like files (by path, and .npmrc by content) and credential-like ENV in an image. */
export async function scanImageForSecrets(image: string): Promise<{ files: number; findings: string[] }> {
  const info = await inspectImage(image);
  const listing = await imageFileListing(image);
  const findings = findSecretLikePaths(listing.paths).map((f) => `${f.path} (${f.reason})`);
  for (const p of listing.paths.filter((x) => x.endsWith('npmrc'))) {
    if (npmrcHasCredentials(await listing.read(p))) findings.push(`${p} (.npmrc with credentials)`);
  }
  findings.push(...secretLikeEnv(info.Config.Env ?? []).map((e) => `ENV ${e.split('=')[0]} (credential-like variable)`));
  return { files: listing.paths.length, findings };
}

/** The run-time imports the image's bundle recorded, and every package directory installed in its node_modules. */
async function imageNodeModules(image: string): Promise<{ runtimePackages: string[]; installed: string[] }> {
  // Package directories are the children of a node_modules directory (two levels for @scope/name).
  const script = `
    const fs = require('node:fs'), path = require('node:path');
    const found = [];
    const walk = (dir) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
        const names = entry.name.startsWith('@') ? fs.readdirSync(path.join(dir, entry.name)).map((n) => entry.name + '/' + n) : [entry.name];
        for (const name of names) {
          const pkg = path.join(dir, name);
          found.push(path.relative('/app', pkg));
          if (fs.existsSync(path.join(pkg, 'node_modules'))) walk(path.join(pkg, 'node_modules'));
        }
      }
    };
    walk('/app/node_modules');
    console.log(JSON.stringify({ runtimePackages: JSON.parse(fs.readFileSync('/app/node_modules/.runtime-packages.json', 'utf8')), installed: found.sort() }));`;
  const out = await dockerChecked(['run', '--rm', '--label', SMOKE_LABEL, '--entrypoint', 'node', image, '-e', script]);
  return parseJson(out, 'node_modules listing') as { runtimePackages: string[]; installed: string[] };
}

/** The model card baked into the image, read from a never-started container. */
async function readBakedModelCard(image: string): Promise<{ modelVersion?: string }> {
  const id = (await dockerChecked(['create', '--label', SMOKE_LABEL, image])).trim();
  try {
    const out = await runProcess('bash', ['-o', 'pipefail', '-c', `docker cp ${id}:/app/artifacts/${MODEL_FILES.card} - | tar -xO`]);
    if (out.code !== 0) throw new CheckFailure(`cannot read /app/artifacts/${MODEL_FILES.card} from the image: ${out.stderr.trim()}`);
    return parseJson(out.stdout, `/app/artifacts/${MODEL_FILES.card}`) as { modelVersion?: string };
  } finally {
    await removeContainer(id);
  }
}

/** Start a container, run `body` against it, always remove it; returns body's value. */
async function withContainer<T>(
  image: string,
  args: readonly string[],
  body: (c: RunningContainer, readyMs: number) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const container = await startContainer(image, args);
  try {
    const readyMs = await waitForReady(container, started);
    return await body(container, readyMs);
  } finally {
    await removeContainer(container.id);
  }
}

/** A private copy of the model directory with a distinguishable version, for the volume-replacement check. */
function stageReplacementModel(modelDir: string, version: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hd-model-volume-'));
  chmodSync(dir, 0o755); // the container's non-root user must be able to read it
  copyFileSync(path.join(repoRoot, modelDir, MODEL_FILES.onnx), path.join(dir, MODEL_FILES.onnx));
  writeFileSync(path.join(dir, MODEL_FILES.card), JSON.stringify({ ...readModelCard(modelDir), modelVersion: version }));
  for (const f of [MODEL_FILES.onnx, MODEL_FILES.card]) chmodSync(path.join(dir, f), 0o644);
  return dir;
}

export async function measureStartToReady(image: string, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    await withContainer(image, [], async (_c, readyMs) => samples.push(Math.round(readyMs)));
  }
  return samples;
}

/** The HTTP checks every smoke run makes against a ready API: the same for a local container and a Dagger service. */
async function endpointChecks(results: CheckResult[], baseUrl: string, patient: KnownPatient, expected: Prediction, modelVersion: string) {
  await check(results, 'health', async () => {
    const res = await http(`${baseUrl}/health`);
    if (res.status !== 200) throw new CheckFailure(`/health answered ${res.status}: ${res.text.slice(0, 200)}`);
    return { detail: `/health 200 ${res.text.slice(0, 60)}` };
  });
  await check(results, 'predict-known-patient', async () => comparePrediction(await predictOverHttp(baseUrl, patient), expected));
  await check(results, 'metrics-model-info', async () => {
    const res = await http(`${baseUrl}/metrics`);
    const line = res.text.split('\n').find((l) => l.startsWith('hd_model_info'));
    if (res.status !== 200 || !line) throw new CheckFailure(`/metrics answered ${res.status} without hd_model_info`);
    if (!line.includes(modelVersion)) throw new CheckFailure(`hd_model_info does not name model ${modelVersion}: ${line}`);
    return { detail: line.slice(0, 100), observed: { line } };
  });
  await check(results, 'drift-status', async () => {
    const res = await http(`${baseUrl}/drift/status`);
    if (res.status !== 200) throw new CheckFailure(`/drift/status answered ${res.status}: ${res.text.slice(0, 200)}`);
    parseJson(res.text, '/drift/status');
    return { detail: `/drift/status 200 ${res.text.slice(0, 60)}` };
  });
}

export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const log = options.log ?? (() => undefined);
  const results: CheckResult[] = [];
  const info = await inspectImage(options.image);
  const card = readModelCard(options.modelDir);
  const patient = firstClevelandPatient(options.dataDir);
  const expected = await localPrediction(path.join(repoRoot, options.modelDir, MODEL_FILES.onnx), patient.vector);
  log(
    `image ${options.image} (${info.Id.slice(7, 19)}), local model ${card.modelVersion}: label=${expected.label} p=${expected.probability}`,
  );

  await check(results, 'image-size', async () => {
    const observed = { sizeBytes: info.Size, limitBytes: MAX_IMAGE_BYTES };
    const detail = `${(info.Size / 1e6).toFixed(1)} MB (limit ${MAX_IMAGE_BYTES / 1e6} MB)`;
    if (info.Size > MAX_IMAGE_BYTES) throw new CheckFailure(detail, observed);
    return { detail, observed };
  });

  await check(results, 'oci-labels', async () => {
    const labels = info.Config.Labels ?? {};
    const wanted = Object.values(IMAGE_LABEL_KEYS);
    const missing = wanted.filter((k) => !labels[k] || labels[k] === 'unknown');
    const observed = Object.fromEntries(wanted.map((k) => [k, labels[k]]));
    if (missing.length > 0) throw new CheckFailure(`missing or unknown: ${missing.join(', ')}`, observed);
    if (labels[IMAGE_LABEL_KEYS.modelVersion] !== card.modelVersion) {
      throw new CheckFailure(
        `image model ${labels[IMAGE_LABEL_KEYS.modelVersion]} is not the local model ${card.modelVersion}: rebuild with npm run image:build`,
        observed,
      );
    }
    return {
      detail: `revision ${labels[IMAGE_LABEL_KEYS.revision]?.slice(0, 12)}, model ${labels[IMAGE_LABEL_KEYS.modelVersion]}`,
      observed,
    };
  });

  await check(results, 'runtime-dependencies', async () => {
    const { runtimePackages, installed } = await imageNodeModules(options.image);
    const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as Lockfile;
    const expected = runtimeClosure(lock, runtimePackages);
    const extra = installed.filter((p) => !expected.includes(p));
    const missing = expected.filter((p) => !installed.includes(p));
    const observed = { runtimePackages, installed: installed.length, expected: expected.length, extra, missing };
    if (extra.length > 0 || missing.length > 0) {
      throw new CheckFailure(
        `node_modules differs from what the bundle loads: extra ${extra.join(', ') || 'none'}; missing ${missing.join(', ') || 'none'}`,
        observed,
      );
    }
    return { detail: `${installed.length} packages, exactly the closure of the bundle's imports ${runtimePackages.join(', ')}`, observed };
  });

  await check(results, 'healthcheck-defined', async () => {
    const test = info.Config.Healthcheck?.Test ?? [];
    if (test.length === 0) throw new CheckFailure('image has no HEALTHCHECK');
    return { detail: test.join(' ').slice(0, 80) };
  });

  // Main run: the endpoints, the user, then SIGTERM.
  const started = performance.now();
  let main: RunningContainer | null = null;
  try {
    main = await startContainer(options.image);
    const container = main;
    const ready = await check(results, 'ready', async () => {
      const ms = await waitForReady(container, started);
      return { detail: `/ready 200 after ${Math.round(ms)} ms`, observed: { ms } };
    });
    if (ready.status === 'PASS') {
      await endpointChecks(results, container.baseUrl, patient, expected, card.modelVersion);
      await check(results, 'non-root-user', async () => {
        const uid = (await dockerChecked(['exec', container.id, 'id', '-u'])).trim();
        const observed = { configUser: info.Config.User ?? '', uid };
        if (!/^[1-9]\d*(:\d+)?$/.test(info.Config.User ?? ''))
          throw new CheckFailure(`image USER '${info.Config.User ?? ''}' is not a numeric non-root user`, observed);
        if (uid === '0' || !/^\d+$/.test(uid)) throw new CheckFailure(`process runs as uid ${uid}`, observed);
        return { detail: `USER ${info.Config.User}, process uid ${uid}`, observed };
      });
    }
    await check(results, 'sigterm-graceful-exit', async () => {
      const outcome = await stopContainer(container.id, STOP_GRACE_S);
      const observed = { ...outcome, graceS: STOP_GRACE_S };
      if (outcome.exitCode !== 0 || outcome.seconds >= STOP_GRACE_S) {
        throw new CheckFailure(
          `docker stop: exit ${outcome.exitCode} after ${outcome.seconds.toFixed(2)} s (grace ${STOP_GRACE_S} s); logs:\n${await containerLogs(container.id)}`,
          observed,
        );
      }
      return { detail: `exit 0 ${outcome.seconds.toFixed(2)} s after SIGTERM (grace ${STOP_GRACE_S} s)`, observed };
    });
  } catch (err) {
    results.push({ name: 'ready', status: 'FAIL', detail: `container did not start: ${(err as Error).message}` });
  } finally {
    if (main) await removeContainer(main.id);
  }

  await check(results, 'hardened-run', async () => {
    // Fast health interval so Docker runs the image's HEALTHCHECK command under the same restrictions.
    const args = [...HARDENED_RUN_ARGS, '--health-interval', '1s', '--health-start-period', '1s'];
    return withContainer(options.image, args, async (c) => {
      const { detail, observed } = comparePrediction(await predictOverHttp(c.baseUrl, patient), expected);
      const health = await waitForHealthStatus(c.id);
      if (health !== 'healthy') throw new CheckFailure(`HEALTHCHECK says '${health}' under ${HARDENED_RUN_ARGS.join(' ')}`, observed);
      return { detail: `${HARDENED_RUN_ARGS.join(' ')}: /predict ok (${detail}), HEALTHCHECK healthy`, observed: { ...observed, health } };
    });
  });

  await check(results, 'model-volume', async () => {
    const version = `${card.modelVersion}-volume`;
    const dir = stageReplacementModel(options.modelDir, version);
    try {
      return await withContainer(options.image, ['--volume', `${dir}:/app/artifacts:ro`], async (c) => {
        const res = await http(`${c.baseUrl}/model`);
        if (res.status !== 200 || !res.text.includes(version))
          throw new CheckFailure(`/model answered ${res.status} without the mounted version ${version}: ${res.text.slice(0, 200)}`);
        return { detail: `volume on /app/artifacts served model ${version}` };
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  await check(results, 'no-secrets-in-image', async () => {
    const scan = await scanImageForSecrets(options.image);
    const observed = { ...scan };
    if (scan.findings.length > 0) throw new CheckFailure(scan.findings.slice(0, 10).join('; '), observed);
    return { detail: `${scan.files} paths scanned, nothing secret-like`, observed };
  });

  await check(results, 'model-label-matches-baked-model', async () => {
    const card = await readBakedModelCard(options.image);
    const label = info.Config.Labels?.[IMAGE_LABEL_KEYS.modelVersion];
    if (card.modelVersion !== label) throw new CheckFailure(`label says ${label}, /app/artifacts/model.json says ${card.modelVersion}`);
    return { detail: `label and baked model.json agree on ${label}` };
  });

  await check(results, 'npm-audit-prod', async () => {
    const outcome = await auditProductionDependencies();
    if (outcome.status === 'FAIL') throw new CheckFailure(outcome.detail, { counts: outcome.counts });
    return { status: outcome.status, detail: outcome.detail, observed: { counts: outcome.counts } };
  });

  let startToReadyMs: SmokeReport['startToReadyMs'] = null;
  const runs = options.timingRuns ?? 5;
  if (runs > 0 && results.every((r) => r.status !== 'FAIL')) {
    const samples = await measureStartToReady(options.image, runs);
    startToReadyMs = { median: median(samples), samples };
    log(`start-to-ready (docker run -> /ready 200): ${samples.join(', ')} ms`);
  }

  return {
    image: options.image,
    imageId: info.Id,
    sizeBytes: info.Size,
    checks: results,
    startToReadyMs,
    verdict: results.some((r) => r.status === 'FAIL') ? 'FAIL' : 'PASS',
  };
}

/**
 * Smoke checks against an API that is already running somewhere (SMOKE_BASE_URL, e.g. the Dagger `smoke-test`
 * service `http://api:8000`): no Docker engine here, so only the HTTP checks, compared with the local model.
 */
export async function runHttpSmoke(options: {
  baseUrl: string;
  modelDir: string;
  dataDir?: string;
  readyTimeoutMs?: number;
}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const card = readModelCard(options.modelDir);
  const patient = firstClevelandPatient(options.dataDir);
  const expected = await localPrediction(path.join(repoRoot, options.modelDir, MODEL_FILES.onnx), patient.vector);
  const ready = await check(results, 'ready', async () => {
    const started = performance.now();
    const deadline = started + (options.readyTimeoutMs ?? 60_000);
    let last = 'no answer';
    while (performance.now() < deadline) {
      try {
        const res = await http(`${baseUrl}/ready`);
        if (res.status === 200) return { detail: `/ready 200 after ${Math.round(performance.now() - started)} ms` };
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new CheckFailure(`${baseUrl}/ready not 200 within ${options.readyTimeoutMs ?? 60_000} ms (last: ${last})`);
  });
  if (ready.status === 'PASS') await endpointChecks(results, baseUrl, patient, expected, card.modelVersion);
  return results;
}
