/**
 * The whole loop on one machine, as steps the end-to-end test and `npm run loop` share (one implementation):
 *
 *   const loop = await startLoop(options)   // MLflow (own server, or options.mlflowUri), v1 trained on Cleveland and
 *                                           // registered as @champion, the API serving @champion with a prediction log
 *   await loop.replay()                     // half of the Hungarian rows (content-hash split) through POST /predict
 *   await loop.sendFeedback(replayed)       // their outcomes through POST /feedback, into the API's prediction log
 *   await loop.feedBack(rows, outcome?)     // or outcomes as a labelled file (`npm run retrain -- --labelled`)
 *   loop.startLoad(); await loop.trigger(); await loop.waitForModel(v); await loop.stopLoad()
 *   await loop.compareOnFresh(v1, v2)       // Brier of both versions on the other Hungarian half, never trained on
 *   await loop.stop()
 *
 *   runLoop(options) → LoopSummary           // all of it in order, logged
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REGISTRY } from '../../src/contract/artifact-contract.js';
import { FEATURES, valueProblem } from '../../src/features/feature-schema.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { fetchModelVersion } from '../../src/mlflow/registered-model.js';
import { getModelVersion, setAlias } from '../../src/mlflow/registry.js';
import { contentHashUnit, readLabelledFile, toUciText, type LabelledRow } from '../../src/retrain/new-rows.js';
import { brierScore } from '../../src/metrics/classification.js';
import { onnxProbabilities } from '../../src/train/export/parity.js';
import { startApiProcess, type ApiProcess } from './api-process.js';
import { startMlflowServer, type RunningMlflow } from './mlflow-server.js';
import { runProcess, type ProcessResult } from './process.js';
import { repoRoot } from './model-dir.js';

/** The salt of the replay/fresh split of the Hungarian rows (a content hash, as retraining's hold-out). */
export const REPLAY_SALT = 'hungarian-replay';

export interface LoopOptions {
  workDir: string;
  clevelandFile: string;
  hungarianFile: string;
  log: (line: string) => void;
  /** An MLflow server to use; default: start one (needs `mlflow` on PATH). */
  mlflowUri?: string;
  /** Extra arguments for the trigger (e.g. --cooldown 0). */
  triggerArgs?: string[];
  /** Concurrent clients of the load that runs across the swap. */
  loadClients?: number;
}

export type CliRun = ProcessResult;

export interface LoadAnswer {
  status: number | 'error';
  modelVersion?: string;
  error?: string;
}

/** A row the API answered, with the id its prediction was logged under. */
export interface Replayed extends LabelledRow {
  predictionId: string;
}

export interface DriftStatus {
  status: string;
  sampleCount: number;
}

export interface Loop {
  mlflowUri: string;
  client: MlflowClient;
  api: ApiProcess;
  v1: { version: string; modelVersion: string };
  /** Hungarian rows sent through the API and those kept fresh (never sent, never trained on). */
  split: { replay: LabelledRow[]; fresh: LabelledRow[] };
  replay(): Promise<{ accepted: Replayed[]; refused: number; drift: DriftStatus }>;
  sendFeedback(predictions: readonly Replayed[]): Promise<Record<string, number>>;
  feedBack(rows: readonly LabelledRow[], outcome?: (row: LabelledRow, index: number) => 0 | 1): Promise<string>;
  trigger(args?: string[]): Promise<CliRun & { decision: Record<string, unknown> | null }>;
  retrain(args: string[]): Promise<CliRun>;
  startLoad(clients?: number): void;
  stopLoad(): Promise<LoadAnswer[]>;
  waitForModel(modelVersion: string, timeoutMs?: number): Promise<void>;
  servedVersion(): Promise<string>;
  compareOnFresh(versions: string[]): Promise<{ version: string; modelVersion: string; brier: number; rows: number }[]>;
  stop(): Promise<void>;
}

export interface LoopSummary {
  v1: string;
  v2: string | null;
  trigger: Record<string, unknown> | null;
  drift: DriftStatus;
  replayed: number;
  refused: number;
  load: { requests: number; failed: number; byVersion: Record<string, number> };
  fresh: { version: string; modelVersion: string; brier: number; rows: number }[];
  wallSeconds: number;
}

/** A data row in API form: a missing value is an omitted field. */
export function patientOf(row: readonly number[]): Record<string, number> {
  return Object.fromEntries(FEATURES.flatMap((f, j) => (Number.isNaN(row[j]!) ? [] : [[f.name, row[j]!]])));
}

/** Rows the API accepts (every present value within the schema's rules): the ones that can be served and fed back. */
export const servable = (row: LabelledRow) =>
  FEATURES.every((f, j) => Number.isNaN(row.features[j]!) || valueProblem(f, row.features[j]!) === null);

/** A TypeScript entry point of the project run as a user runs it (through tsx), its output captured. */
const runNode = (entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> =>
  runProcess(process.execPath, ['--import', 'tsx', path.join(repoRoot, entry), ...args], { cwd: repoRoot, env });

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const predictionLogOf = (workDir: string) => path.join(workDir, 'prediction-log.sqlite');

/**
 * v1: trained on `clevelandFile`, tracked to and registered in `mlflowUri` (the server `client` talks to), then made
 * @champion. Returns its registry version and model version.
 */
export async function trainChampion(input: {
  workDir: string;
  clevelandFile: string;
  mlflowUri: string;
  client: MlflowClient;
  log: (line: string) => void;
}): Promise<Loop['v1']> {
  const { workDir, client, log } = input;
  log('training v1 on Cleveland…');
  const trained = await runNode(
    'src/train/cli.ts',
    ['--data', input.clevelandFile, '--out', path.join(workDir, 'v1'), '--runs-dir', path.join(workDir, 'runs')],
    { MLFLOW_TRACKING_URI: input.mlflowUri },
  );
  const version = /\(registered model version (\d+)\)/.exec(trained.stdout)?.[1];
  if (trained.code !== 0 || !version)
    throw new Error(`training v1 failed (exit ${trained.code}):\n${trained.stderr || trained.stdout.slice(-2000)}`);
  await setAlias(client, REGISTRY.modelName, REGISTRY.aliases.champion, version);
  const v1 = {
    version,
    modelVersion: (await getModelVersion(client, REGISTRY.modelName, version)).tags[REGISTRY.versionTags.modelVersion]!,
  };
  log(`v1: registry version ${version} (${v1.modelVersion}) is @${REGISTRY.aliases.champion}`);
  return v1;
}

/** The Hungarian rows, split by a content hash: half to replay through the API, half kept fresh for the comparison. */
export async function splitHungarian(hungarianFile: string): Promise<Loop['split']> {
  const hungarian = await readLabelledFile(hungarianFile, FEATURES);
  return {
    replay: hungarian.filter((r) => contentHashUnit(r.features, REPLAY_SALT) < 0.5),
    fresh: hungarian.filter((r) => contentHashUnit(r.features, REPLAY_SALT) >= 0.5),
  };
}

/**
 * `rows` through POST /predict of the API at `apiUrl`, one at a time. `newConnections`: each on a connection of its
 * own, so a Service spreads them over its pods (each pod keeps its own drift window).
 */
export async function replayRows(
  apiUrl: string,
  rows: readonly LabelledRow[],
  newConnections = false,
): Promise<{ accepted: Replayed[]; refused: number }> {
  const accepted: Replayed[] = [];
  let refused = 0;
  for (const row of rows) {
    const res = await fetch(`${apiUrl}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(newConnections ? { connection: 'close' } : {}) },
      body: JSON.stringify(patientOf(row.features)),
    });
    const body = (await res.json()) as { predictionId?: string };
    if (res.status === 200 && body.predictionId) accepted.push({ ...row, predictionId: body.predictionId });
    else refused++;
  }
  return { accepted, refused };
}

/** The outcomes of `predictions` through POST /feedback (100 a request); counts of the per-outcome statuses. */
export async function sendFeedback(apiUrl: string, predictions: readonly Replayed[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < predictions.length; i += 100) {
    const outcomes = predictions.slice(i, i + 100).map((p) => ({ predictionId: p.predictionId, outcome: p.outcome }));
    const res = await fetch(`${apiUrl}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcomes }),
    });
    const body = (await res.json()) as { results?: { status: string }[]; message?: string };
    if (res.status !== 200 || !body.results)
      throw new Error(`POST /feedback answered ${res.status}: ${body.message ?? JSON.stringify(body)}`);
    for (const r of body.results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  }
  return counts;
}

/** Brier score of registry `versions` on `rows` (servable ones), computed with the versions' own ONNX graphs. */
export async function brierOnRows(
  client: MlflowClient,
  versions: string[],
  rows: readonly LabelledRow[],
  workDir: string,
): Promise<{ version: string; modelVersion: string; brier: number; rows: number }[]> {
  const usable = rows.filter(servable);
  const y = usable.map((r) => r.outcome as number);
  const out = [];
  for (const version of versions) {
    const dir = path.join(workDir, 'compare', version);
    await mkdir(dir, { recursive: true });
    const { card } = await fetchModelVersion(client, await getModelVersion(client, REGISTRY.modelName, version), dir);
    const p = await onnxProbabilities(
      await readFile(path.join(dir, 'model.onnx')),
      usable.map((r) => r.features),
    );
    out.push({ version, modelVersion: card.modelVersion, brier: brierScore(y, p), rows: usable.length });
  }
  return out;
}

export async function startLoop(options: LoopOptions): Promise<Loop> {
  const { log, workDir } = options;
  await mkdir(workDir, { recursive: true });
  let server: RunningMlflow | null = null;
  let api: ApiProcess | null = null;
  try {
    if (!options.mlflowUri) {
      log('starting MLflow…');
      server = await startMlflowServer();
      log(`MLflow ${server.version} on ${server.uri} (${server.startSeconds.toFixed(1)} s)`);
    }
    const mlflowUri = options.mlflowUri ?? server!.uri;
    const client = new MlflowClient({ trackingUri: mlflowUri });
    const mlflowEnv = { MLFLOW_TRACKING_URI: mlflowUri };

    const v1 = await trainChampion({ workDir, clevelandFile: options.clevelandFile, mlflowUri, client, log });

    api = await startApiProcess({
      env: {
        MODEL_URI: `models:/${REGISTRY.modelName}@${REGISTRY.aliases.champion}`,
        ...mlflowEnv,
        MODEL_POLL_INTERVAL_S: '1',
        MODEL_CACHE_DIR: path.join(workDir, 'model-cache'),
        MODEL_DIR: path.join(workDir, 'no-baked-model'),
        PREDICTION_LOG_PATH: predictionLogOf(workDir),
        LOG_LEVEL: 'warn',
        API_KEYS: '',
        // The laptop also trains during the loop: a stalled event loop there is not overload to shed.
        UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
      },
      readyPaths: ['/ready', '/model'],
    });
    log(`API on ${api.url} serving models:/${REGISTRY.modelName}@${REGISTRY.aliases.champion}`);
    return loopOf({ options, server, mlflowUri, client, api, v1 });
  } catch (error) {
    await api?.stop();
    await server?.stop();
    throw error;
  }
}

async function loopOf(input: {
  options: LoopOptions;
  server: RunningMlflow | null;
  mlflowUri: string;
  client: MlflowClient;
  api: ApiProcess;
  v1: Loop['v1'];
}): Promise<Loop> {
  const { options, server, mlflowUri, client, api, v1 } = input;
  const { log, workDir } = options;
  const split = await splitHungarian(options.hungarianFile);
  const mlflowEnv = { MLFLOW_TRACKING_URI: mlflowUri };
  const labelledFile = path.join(workDir, 'outcomes.data');
  const predictionLog = predictionLogOf(workDir);
  let load: { answers: LoadAnswer[]; stop: boolean; done: Promise<void> } | null = null;

  const getJson = async <T>(route: string) => (await (await fetch(`${api.url}${route}`)).json()) as T;
  const servedVersion = async () => (await getJson<{ modelVersion: string }>('/model')).modelVersion;

  return {
    mlflowUri,
    client,
    api,
    v1,
    split,
    async replay() {
      const { accepted, refused } = await replayRows(api.url, split.replay);
      const { status, sampleCount } = await getJson<DriftStatus>('/drift/status');
      const drift = { status, sampleCount };
      log(
        `replayed ${split.replay.length} Hungarian rows: ${accepted.length} answered, ${refused} refused; /drift/status: ${drift.status}`,
      );
      return { accepted, refused, drift };
    },
    async sendFeedback(predictions) {
      const counts = await sendFeedback(api.url, predictions);
      log(`fed back ${predictions.length} outcomes through POST /feedback: ${JSON.stringify(counts)}`);
      return counts;
    },
    async feedBack(rows, outcome = (row) => row.outcome) {
      await writeFile(labelledFile, toUciText(rows.map((row, i) => ({ features: row.features, outcome: outcome(row, i) }))));
      log(`fed back ${rows.length} outcomes (${labelledFile})`);
      return labelledFile;
    },
    async trigger(args = options.triggerArgs ?? []) {
      const run = await runNode(
        'src/retrain/trigger-cli.ts',
        ['--api-url', api.url, '--data', options.clevelandFile, '--out', path.join(workDir, 'retrain'), '--min-labels', '50', ...args],
        // The trigger and retraining read the outcomes from the API's prediction log.
        { ...mlflowEnv, PREDICTION_LOG_PATH: predictionLog },
      );
      const last = run.stdout.trim().split('\n').pop() ?? '';
      let decision: Record<string, unknown> | null;
      try {
        decision = JSON.parse(last) as Record<string, unknown>;
      } catch {
        decision = null;
      }
      log(`trigger (exit ${run.code}): ${last}`);
      return { ...run, decision };
    },
    retrain(args) {
      return runNode('src/retrain/cli.ts', args, mlflowEnv);
    },
    startLoad(clients = options.loadClients ?? 2) {
      const state = { answers: [] as LoadAnswer[], stop: false, done: Promise.resolve() };
      const body = JSON.stringify(patientOf(split.fresh.find(servable)!.features));
      const client = async () => {
        while (!state.stop) {
          try {
            const res = await fetch(`${api.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
            const json = (await res.json()) as { modelVersion?: string };
            state.answers.push({ status: res.status, modelVersion: json.modelVersion });
          } catch (error) {
            state.answers.push({ status: 'error', error: String((error as { cause?: { code?: string } }).cause?.code ?? error) });
          }
        }
      };
      state.done = Promise.all(Array.from({ length: clients }, client)).then(() => undefined);
      load = state;
    },
    async stopLoad() {
      if (!load) return [];
      load.stop = true;
      await load.done;
      const { answers } = load;
      load = null;
      return answers;
    },
    async waitForModel(modelVersion, timeoutMs = 120_000) {
      await waitFor(`the API to serve ${modelVersion}`, async () => (await servedVersion()) === modelVersion, timeoutMs);
    },
    servedVersion,
    compareOnFresh(versions) {
      return brierOnRows(client, versions, split.fresh, workDir);
    },
    async stop() {
      if (load) {
        load.stop = true;
        await load.done;
      }
      await api.stop();
      await server?.stop();
    },
  };
}

/** The loop end to end: replay, feedback, trigger under load, swap, before/after on fresh rows. */
export async function runLoop(options: LoopOptions): Promise<LoopSummary> {
  const started = performance.now();
  const loop = await startLoop(options);
  try {
    const replayed = await loop.replay();
    await loop.sendFeedback(replayed.accepted);
    loop.startLoad();
    const triggered = await loop.trigger();
    const decision = triggered.decision;
    const v2 = decision?.decision === 'promoted' ? String(decision.challengerVersion) : null;
    let v2ModelVersion: string | null = null;
    if (v2) {
      v2ModelVersion = (await getModelVersion(loop.client, REGISTRY.modelName, v2)).tags[REGISTRY.versionTags.modelVersion]!;
      await loop.waitForModel(v2ModelVersion);
      // A few more answers from v2 before the load stops.
      await new Promise((r) => setTimeout(r, 1500));
    }
    const answers = await loop.stopLoad();
    const byVersion: Record<string, number> = {};
    for (const a of answers) if (a.modelVersion) byVersion[a.modelVersion] = (byVersion[a.modelVersion] ?? 0) + 1;
    const load = { requests: answers.length, failed: answers.filter((a) => a.status !== 200).length, byVersion };
    options.log(`load across the swap: ${load.requests} requests, ${load.failed} failed, by model version ${JSON.stringify(byVersion)}`);
    const fresh = await loop.compareOnFresh(v2 ? [loop.v1.version, v2] : [loop.v1.version]);
    for (const f of fresh)
      options.log(`fresh Hungarian rows (${f.rows}): version ${f.version} (${f.modelVersion}) Brier ${f.brier.toFixed(4)}`);
    const wallSeconds = (performance.now() - started) / 1000;
    options.log(`loop wall time: ${wallSeconds.toFixed(1)} s`);
    return {
      v1: loop.v1.version,
      v2,
      trigger: decision,
      drift: replayed.drift,
      replayed: replayed.accepted.length,
      refused: replayed.refused,
      load,
      fresh,
      wallSeconds,
    };
  } finally {
    await loop.stop();
  }
}
