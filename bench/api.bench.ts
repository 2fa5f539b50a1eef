/**
 * `npm run bench`: serving throughput and latency, as ONE JSON line on stdout (progress goes to stderr).
 * Not a test: nothing here asserts a time; the targets are printed beside the numbers.
 *
 * Same run, same setup for every server: each is a child process started the same way (node + tsx loader, stdout to
 * /dev/null, the same LOG_LEVEL), on 127.0.0.1, warmed up, then loaded by autocannon from this process. The three
 * servers below are loaded in turn in short rounds (empty, predict, predict with the log off, empty, …: BENCH_ROUNDS
 * rounds of BENCH_ROUND_S); a ratio divides each round of one server by the same round of the other, and is the median
 * of those paired ratios, printed with a distribution-free interval for that median (order statistics, taking the
 * rounds as independent draws: with 8 rounds, the 2nd and 7th smallest pair, 93 % coverage) and a verdict against the
 * target: met, missed or undecided. The host's speed drifts (the same server's rounds differ by up to 2× here), slowly
 * against a round: a pair shares the drift, and the median ignores a pair that straddles a jump. (The best round of each side,
 * an earlier method, is printed too: it pairs the luckiest seconds of each, and moved by ±0.15 between runs of
 * unchanged code.) Each round also reads the server's thread times from /proc (Linux), per request: the event loop's CPU
 * (the cost itself) and its kernel part (socket reads and writes, alike for every server: the rest is the code's own
 * work), its wait for a CPU that another thread had, and the other threads' CPU (the log's writer, the
 * garbage collector's helpers), which on shared cores is taken from the event loop or the load generator. Each kind
 * runs as BENCH_PROCESSES identical processes, and a kind's round pools them: two processes of the same server
 * differed by up to ~20 % in throughput here, for the whole of a run (where the JIT and the allocator happened to put
 * things), so one process per kind makes a ratio a sample of one.
 * - baseline: an empty Fastify POST route that parses the same JSON body and answers {};
 * - predict:  the real API as `npm start` runs it (dist/, built first; model from MODEL_DIR or artifacts/, else trained
 *   into a temp dir; the prediction log on, SQLite in a temp dir), single row;
 * - predict with PREDICTION_LOG=off: the serving path alone (`servingPathVsEmpty`), and the log's cost (`predictionLog`:
 *   on against off);
 * - batch:    the real API with { instances: [1,000 rows] } → rows/s;
 * - also /predict at 4 connections: latency without the queueing that 50 closed-loop connections imply;
 * - feedback: POST /feedback of distinct predictions at a fixed 200 req/s (autocannon's overallRate): the write's p99
 *   from the server's histogram (the target), the client's p99, and GET /health's p99 under the same load for scale.
 * Targets: predict req/s >= 0.9 × baseline req/s (issue 10), predict p99 < 10 ms, at 50 connections; log on
 * >= 0.9 × log off, feedback write p99 < 5 ms at 200 req/s (issue 13).
 *
 * Env: BENCH_DURATION_S (10: single loads), BENCH_ROUND_S (4), BENCH_ROUNDS (8), BENCH_PROCESSES (2), BENCH_CONNECTIONS (50), BENCH_BATCH_CONNECTIONS (4), BENCH_LOG_LEVEL (warn), MODEL_DIR,
 * BENCH_CPU_PROF=1 (write a V8 CPU profile of the API process to bench-results/ for profiling).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { MODEL_FILES } from '../src/contract/artifact-contract.js';
import { FEATURES } from '../src/features/feature-schema.js';
import { parseUciText } from '../src/train/data/uci-file.js';
import { startApiProcess } from '../scripts/lib/api-process.js';
import { medianInterval, targetVerdict } from '../scripts/lib/median-interval.js';
import { median, runChecked } from '../scripts/lib/process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const dataDir = process.env.UCI_DATA_DIR ?? path.resolve(repoRoot, '../shared/data/uci-heart-disease');
const clevelandFile = path.join(dataDir, 'processed.cleveland.data');

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const BATCH_CONNECTIONS = Number(process.env.BENCH_BATCH_CONNECTIONS ?? 4);
const LOW_CONNECTIONS = 4;
const BATCH_SIZE = 1000;
const WARMUP_S = 3;
const RATIO_TARGET = 0.9;
const P99_TARGET_MS = 10;
const LOG_RATIO_TARGET = 0.9;
/** Coverage asked of a ratio's interval (order statistics of its paired rounds: 0.93 with 8 rounds). */
const INTERVAL_LEVEL = 0.9;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const ROUND_S = Number(process.env.BENCH_ROUND_S ?? 4);
/** Processes per server kind: identical processes differ by up to ~20 % in throughput here, so one is a sample of one. */
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 2);
/** The real API's entry point, built by `npm run build` (what `npm start` runs). */
const API_ENTRY = 'dist/api/server.js';
const FEEDBACK_RATE = 200;
const FEEDBACK_P99_TARGET_MS = 5;
/** /proc's unit of CPU time (USER_HZ): 100 on Linux's supported architectures. */
const CLOCK_TICKS_PER_SECOND = 100;

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** Child mode: the empty baseline server (same body parser and limit as the API, same logger level). */
async function serveEmpty(port: number): Promise<void> {
  const level = process.env.LOG_LEVEL ?? 'info';
  const app = Fastify({ logger: { level }, bodyLimit: 1_048_576 });
  app.post('/predict', async () => ({}));
  app.get('/ready', async () => ({ status: 'ready' }));
  // Exit cleanly on SIGTERM so `--cpu-prof` (profiling runs) can write its profile.
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  await app.listen({ host: '127.0.0.1', port });
}

interface Server {
  url: string;
  /** Where the server's threads spent their time so far; null where /proc is not there. */
  threadTimes: () => ThreadTimes | null;
  /** Throws with the server's stderr if it died (a crash must not pass as a slow run). */
  assertAlive: () => void;
  stop: () => Promise<void>;
}

async function startServer(args: string[], env: NodeJS.ProcessEnv): Promise<Server> {
  const server = await startApiProcess({ args, env, output: 'ignore' });
  return {
    url: server.url,
    threadTimes: () => threadTimes(server.child.pid),
    assertAlive: () => {
      const { exitCode, signalCode } = server.child;
      if (exitCode !== null || signalCode !== null)
        throw new Error(`server ${args.join(' ')} died (${exitCode ?? signalCode}): ${server.output().slice(-4000)}`);
    },
    stop: async () => {
      await server.stop();
    },
  };
}

/** Seconds so far, from /proc (Linux). */
interface ThreadTimes {
  /** The main thread's (the event loop's) CPU time: utime + stime of /proc/<pid>/task/<pid>/stat. */
  mainCpu: number;
  /** Its kernel part (stime): the socket reads and writes, much the same for every server. The rest (utime) is JavaScript and native code. */
  mainSys: number;
  /**
   * The main thread's time runnable but waiting for a CPU that another thread had (schedstat's second field): what
   * the server's other threads (the prediction log's writer, the garbage collector's helpers) and the load generator
   * take from the event loop on shared cores. Null where the kernel keeps no schedstat.
   */
  mainWait: number | null;
  /** CPU time of all the process's other threads: /proc/<pid>/stat's utime + stime less the main thread's. */
  otherCpu: number;
}

/** utime and stime, in seconds, of a /proc stat line. */
const cpuSecondsOf = (statLine: string): { user: number; sys: number } => {
  const fields = statLine.split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS_PER_SECOND, sys: Number(fields[12]) / CLOCK_TICKS_PER_SECOND };
};

function threadTimes(pid: number | undefined): ThreadTimes | null {
  try {
    const main = cpuSecondsOf(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
    const whole = cpuSecondsOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const mainCpu = main.user + main.sys;
    const processCpu = whole.user + whole.sys;
    let mainWait: number | null = null;
    try {
      mainWait = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
    } catch {
      // no schedstat in this kernel
    }
    return { mainCpu, mainSys: main.sys, mainWait, otherCpu: processCpu - mainCpu };
  } catch {
    return null;
  }
}

interface Load {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  requests: number;
}

async function load(url: string, body: string, connections: number, duration: number): Promise<Load> {
  return summary(
    await autocannon({
      url: `${url}/predict`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections,
      duration,
    }),
  );
}

function summary(result: autocannon.Result): Load {
  return {
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
  };
}

/** Train into a temp dir when no model is at MODEL_DIR / artifacts (fresh machine). */
async function modelDir(): Promise<string> {
  const dir = path.resolve(repoRoot, process.env.MODEL_DIR ?? 'artifacts');
  if (existsSync(path.join(dir, MODEL_FILES.onnx)) && existsSync(path.join(dir, MODEL_FILES.card))) return dir;
  const out = mkdtempSync(path.join(os.tmpdir(), 'hd-bench-model-'));
  log(`no model in ${dir}; training one into ${out}`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/train/cli.ts', '--data', clevelandFile, '--out', out, '--no-track'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`training failed (exit ${code})`);
  return out;
}

/** Feedback for distinct logged predictions at a fixed request rate: each request names the next id once. */
async function feedbackLoad(
  url: string,
  ids: readonly string[],
  duration: number,
): Promise<Load & { p999Ms: number; ratePerSecond: number }> {
  let next = 0;
  const result = await autocannon({
    url: `${url}/feedback`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: 10,
    overallRate: FEEDBACK_RATE,
    duration,
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ predictionId: ids[next++ % ids.length], outcome: next % 3 === 0 ? 1 : 0 }),
        }),
      },
    ],
  });
  return { ...summary(result), p999Ms: result.latency.p99_9, ratePerSecond: FEEDBACK_RATE };
}

/**
 * GET /health at the feedback load's rate and connections: what the load tool and HTTP alone add to a latency at this
 * rate (autocannon's rate-limited mode measures whole milliseconds and sends in bursts), beside the feedback's own.
 */
async function referenceLoad(url: string, duration: number): Promise<Load> {
  return summary(await autocannon({ url: `${url}/health`, connections: 10, overallRate: FEEDBACK_RATE, duration }));
}

/** `n` logged predictions' ids (1,000-row batches). */
async function predictionIds(url: string, batchBody: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < n) {
    const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batchBody });
    const body = (await res.json()) as { predictions: { predictionId: string }[] };
    ids.push(...body.predictions.map((p) => p.predictionId));
  }
  return ids;
}

/** Server-side feedback write times from /metrics (hd_feedback_write_duration_seconds): share within 5 ms, p99 bucket. */
async function feedbackWriteTimes(url: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = [...text.matchAll(/^hd_feedback_write_duration_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)].map((m) => ({
    le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]),
    count: Number(m[2]),
  }));
  const total = buckets.at(-1)?.count ?? 0;
  const within5ms = buckets.find((b) => b.le === 0.005)?.count ?? 0;
  const p99Bucket = buckets.find((b) => b.count >= 0.99 * total)?.le ?? null;
  return {
    writes: total,
    shareWithin5Ms: total ? Math.round((within5ms / total) * 10_000) / 10_000 : null,
    p99AtMostMs: p99Bucket === null ? null : p99Bucket * 1000,
  };
}

/** One round of an alternation: the load's figures and the server's thread times per request (µs). */
interface Round extends Load {
  cpuUsPerRequest: number | null;
  /** The kernel part of cpuUsPerRequest (ThreadTimes.mainSys). */
  sysUsPerRequest: number | null;
  /** The event loop's wait for a CPU (ThreadTimes.mainWait). */
  waitUsPerRequest: number | null;
  /** The process's other threads' CPU (ThreadTimes.otherCpu). */
  otherThreadsCpuUsPerRequest: number | null;
}

const best = (runs: readonly Load[]): Load => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * `second` against `first` (named for the output): the median of the rounds' paired ratios (round i of second / round
 * i of first, loaded next to each other, or one server apart).
 */
function comparison([firstName, first]: [string, readonly Round[]], [secondName, second]: [string, readonly Round[]]) {
  const pairs = second.map((b, i) => round3(b.rps / first[i]!.rps));
  const med = (rounds: readonly Round[], field: PerRequestField) => medianPerRequest(rounds.map((r) => r[field]));
  const interval = medianInterval(pairs, INTERVAL_LEVEL);
  return {
    ratio: round3(median(pairs)),
    pairedRatios: pairs,
    // Where the true median of such pairs lies, with `coverage` (distribution-free): a target is met only if `low`
    // reaches it, missed only if `high` does not; in between this run cannot tell.
    interval: { low: interval.low, high: interval.high, coverage: interval.coverage && round3(interval.coverage) },
    bestRoundRatio: round3(best(second).rps / best(first).rps),
    rps: { [firstName]: first.map((r) => r.rps), [secondName]: second.map((r) => r.rps) },
    // Medians, µs per request: the event loop's CPU (what it spends on one answer), its wait for a CPU another thread
    // had, and the CPU of the process's other threads (the log's writer, the garbage collector's helpers).
    eventLoopCpuUsPerRequest: { [firstName]: med(first, 'cpuUsPerRequest'), [secondName]: med(second, 'cpuUsPerRequest') },
    // Its kernel part (socket reads and writes): the rest is the code's own work.
    eventLoopSysUsPerRequest: { [firstName]: med(first, 'sysUsPerRequest'), [secondName]: med(second, 'sysUsPerRequest') },
    eventLoopWaitUsPerRequest: { [firstName]: med(first, 'waitUsPerRequest'), [secondName]: med(second, 'waitUsPerRequest') },
    otherThreadsCpuUsPerRequest: {
      [firstName]: med(first, 'otherThreadsCpuUsPerRequest'),
      [secondName]: med(second, 'otherThreadsCpuUsPerRequest'),
    },
  };
}

async function measuredRound(server: Server, body: string): Promise<Round> {
  const before = server.threadTimes();
  const result = await load(server.url, body, CONNECTIONS, ROUND_S);
  const after = server.threadTimes();
  const perRequest = (seconds: (t: ThreadTimes) => number | null): number | null => {
    const start = before && seconds(before);
    const end = after && seconds(after);
    if (start === null || end === null || result.requests === 0) return null;
    return Math.round(((end - start) * 1e6 * 10) / result.requests) / 10;
  };
  return {
    ...result,
    cpuUsPerRequest: perRequest((t) => t.mainCpu),
    sysUsPerRequest: perRequest((t) => t.mainSys),
    waitUsPerRequest: perRequest((t) => t.mainWait),
    otherThreadsCpuUsPerRequest: perRequest((t) => t.otherCpu),
  };
}

type PerRequestField = 'cpuUsPerRequest' | 'sysUsPerRequest' | 'waitUsPerRequest' | 'otherThreadsCpuUsPerRequest';

/** The median of per-request figures, or null when any is unknown. */
function medianPerRequest(values: readonly (number | null)[]): number | null {
  const known = values.flatMap((v) => (v === null ? [] : [v]));
  return known.length === values.length && known.length > 0 ? Math.round(median(known) * 10) / 10 : null;
}

/** One kind's processes in the same round, as one: their mean req/s, summed counts, the worse p99, the median thread times per request. */
function pooled(rounds: readonly Round[]): Round {
  return {
    rps: Math.round(rounds.reduce((sum, r) => sum + r.rps, 0) / rounds.length),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: Math.max(...rounds.map((r) => r.p99Ms)),
    non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    requests: rounds.reduce((sum, r) => sum + r.requests, 0),
    cpuUsPerRequest: medianPerRequest(rounds.map((r) => r.cpuUsPerRequest)),
    sysUsPerRequest: medianPerRequest(rounds.map((r) => r.sysUsPerRequest)),
    waitUsPerRequest: medianPerRequest(rounds.map((r) => r.waitUsPerRequest)),
    otherThreadsCpuUsPerRequest: medianPerRequest(rounds.map((r) => r.otherThreadsCpuUsPerRequest)),
  };
}

/**
 * Kinds of server (each a list of identical processes) under the same single-row load in turn, after a warm-up of
 * each: a round loads every process once, kind after kind (a1, b1, c1, a2, b2, c2); ROUNDS rounds. Per kind and
 * round, its processes pooled.
 */
async function alternate(kinds: readonly (readonly Server[])[], body: string): Promise<Round[][]> {
  const order = [...kinds[0]!.keys()].flatMap((i) => kinds.map((processes, k) => ({ k, server: processes[i]! })));
  for (const { server } of order) await load(server.url, body, CONNECTIONS, WARMUP_S);
  const runs: Round[][] = kinds.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    const thisRound: Round[][] = kinds.map(() => []);
    for (const { k, server } of order) thisRound[k]!.push(await measuredRound(server, body));
    for (const [k, rounds] of thisRound.entries()) runs[k]!.push(pooled(rounds));
  }
  for (const { server } of order) server.assertAlive();
  return runs;
}

/** `count` identical server processes, started one after another. */
async function startServers(count: number, args: string[], env: (i: number) => NodeJS.ProcessEnv): Promise<Server[]> {
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) servers.push(await startServer(args, env(i)));
  return servers;
}

async function main(): Promise<void> {
  const rows = parseUciText(clevelandFile, readFileSync(clevelandFile, 'utf8'), FEATURES).rows;
  const patient = (row: number[]) => Object.fromEntries(FEATURES.flatMap((f, j) => (Number.isNaN(row[j]!) ? [] : [[f.name, row[j]!]])));
  const single = JSON.stringify(patient(rows[0]!));
  const batch = JSON.stringify({ instances: Array.from({ length: BATCH_SIZE }, (_, i) => patient(rows[i % rows.length]!)) });
  const dir = await modelDir();
  // The API as `npm start` runs it (tsc's output, no loader): compiled here first, so it is this checkout's code.
  log('building dist/ (npm run build)');
  await runChecked('npm', ['run', 'build'], { cwd: repoRoot });
  // warn by default for both servers: at info Fastify writes two log lines per request, which measures pino
  // rather than the route. Same level for both either way (BENCH_LOG_LEVEL=info to see the logging cost).
  const logLevel = process.env.BENCH_LOG_LEVEL ?? 'warn';
  const env = { LOG_LEVEL: logLevel };

  const profDir = path.join(repoRoot, 'bench-results');
  const profArgs =
    process.env.BENCH_CPU_PROF === '1' ? (mkdirSync(profDir, { recursive: true }), ['--cpu-prof', `--cpu-prof-dir=${profDir}`]) : [];
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'hd-bench-log-'));
  const apiEnv = (i: number) => ({
    ...env,
    MODEL_DIR: dir,
    MAX_BATCH_SIZE: String(BATCH_SIZE),
    PREDICTION_LOG_PATH: path.join(logDir, `log-${i}.sqlite`),
  });
  log(
    `baseline (empty Fastify route), predict (real API as npm start runs it, prediction log on, model ${dir}) and the same API with ` +
      `PREDICTION_LOG=off, ${PROCESSES} processes of each: ${ROUNDS} rounds of ${ROUND_S} s each, in turn, ${CONNECTIONS} connections`,
  );
  const empties = await startServers(PROCESSES, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve-empty'], () => env);
  const apis = await startServers(PROCESSES, [...profArgs, API_ENTRY], apiEnv);
  const logOffApis = await startServers(PROCESSES, [API_ENTRY], (i) => ({ ...apiEnv(i), PREDICTION_LOG: 'off' }));
  // The single loads below (latency, batch, feedback) use one process.
  const api = apis[0]!;
  let baselineRounds: Round[];
  let predictRounds: Round[];
  let logOffRounds: Round[];
  let predictLow: Load;
  let batched: Load;
  let feedback;
  let healthAtFeedbackRate: Load;
  try {
    // In this order, each of the two targets' pairs is loaded back to back: predict after the empty route, log off
    // after log on.
    [baselineRounds, predictRounds, logOffRounds] = (await alternate([empties, apis, logOffApis], single)) as [Round[], Round[], Round[]];
    await Promise.all([...empties, ...apis.slice(1), ...logOffApis].map((server) => server.stop()));
    // Latency without queueing: with 50 closed-loop connections mean latency = 50 / throughput (Little's law).
    log(`predict at ${LOW_CONNECTIONS} connections, ${DURATION_S} s (latency without queueing)`);
    predictLow = await load(api.url, single, LOW_CONNECTIONS, DURATION_S);
    api.assertAlive();
    log(`batch: ${BATCH_SIZE}-row batches, ${BATCH_CONNECTIONS} connections, ${DURATION_S} s`);
    await load(api.url, batch, BATCH_CONNECTIONS, WARMUP_S);
    batched = await load(api.url, batch, BATCH_CONNECTIONS, DURATION_S);
    api.assertAlive();
    log(`feedback: distinct predictions at ${FEEDBACK_RATE} req/s, ${DURATION_S} s`);
    const ids = await predictionIds(api.url, batch, FEEDBACK_RATE * (DURATION_S + WARMUP_S + 2));
    await feedbackLoad(api.url, ids.slice(0, FEEDBACK_RATE * (WARMUP_S + 1)), WARMUP_S);
    feedback = await feedbackLoad(api.url, ids.slice(FEEDBACK_RATE * (WARMUP_S + 1)), DURATION_S);
    healthAtFeedbackRate = await referenceLoad(api.url, DURATION_S);
    api.assertAlive();
    // Since start (the warm-up's writes included): the store's own time, without HTTP and the client's scheduling.
    feedback = { ...feedback, serverWriteTimes: await feedbackWriteTimes(api.url) };
  } finally {
    await Promise.all([...empties, ...apis, ...logOffApis].map((server) => server.stop()));
    rmSync(logDir, { recursive: true, force: true });
  }
  const baseline = best(baselineRounds);
  const predict = best(predictRounds);
  const predictVsEmpty = comparison(['baseline', baselineRounds], ['predict', predictRounds]);
  // The serving path without the prediction log (what issue 10 measured before the log existed), from the same rounds.
  const servingPathVsEmpty = comparison(['baseline', baselineRounds], ['predictLogOff', logOffRounds]);
  const logOnVsOff = comparison(['off', logOffRounds], ['on', predictRounds]);
  const { ratio } = predictVsEmpty;
  const line = {
    bench: 'api',
    connections: CONNECTIONS,
    durationSeconds: DURATION_S,
    logLevel,
    rounds: ROUNDS,
    roundSeconds: ROUND_S,
    processesPerKind: PROCESSES,
    // Best round of each (its p50/p99 are the latency figures).
    baseline,
    predict,
    ratio,
    predictVsEmpty,
    servingPathVsEmpty,
    targets: { ratio: RATIO_TARGET, predictP99Ms: P99_TARGET_MS },
    meetsTargets: { ratio: ratio >= RATIO_TARGET, predictP99: predict.p99Ms < P99_TARGET_MS },
    ratioVerdict: targetVerdict(predictVsEmpty.interval, RATIO_TARGET),
    predictAt4Connections: predictLow,
    batch: { batchSize: BATCH_SIZE, connections: BATCH_CONNECTIONS, rowsPerSecond: batched.rps * BATCH_SIZE, ...batched },
    predictionLog: {
      off: best(logOffRounds),
      on: predict,
      ...logOnVsOff,
      target: LOG_RATIO_TARGET,
      meetsTarget: logOnVsOff.ratio >= LOG_RATIO_TARGET,
      verdict: targetVerdict(logOnVsOff.interval, LOG_RATIO_TARGET),
    },
    // The target is the write's (server-side histogram, hd_feedback_write_duration_seconds); the client's p99 is shown
    // beside GET /health's under the same load, which is the floor of what the load tool can measure here.
    feedback: {
      ...feedback,
      healthAtSameRate: healthAtFeedbackRate,
      targetP99Ms: FEEDBACK_P99_TARGET_MS,
      meetsTarget: feedback.serverWriteTimes.p99AtMostMs !== null && feedback.serverWriteTimes.p99AtMostMs < FEEDBACK_P99_TARGET_MS,
    },
    machine: { cpus: os.cpus().length, node: process.version },
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const serveIndex = process.argv.indexOf('--serve-empty');
if (serveIndex >= 0) {
  await serveEmpty(Number(process.env.PORT));
} else {
  await main();
}
