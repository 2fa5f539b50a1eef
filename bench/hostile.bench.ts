/**
 * `npm run bench:hostile`: what hostile and heavy requests cost the server, as ONE JSON line on stdout (progress on
 * stderr). Not a test: nothing asserts a time. For each configuration (default limits, and the largest limits the
 * configuration accepts) it starts the real API as a child process and measures:
 * - probe latency: /health, /ready and /metrics polled back to back while each heavy request runs (worst and p99);
 * - each heavy request's status, duration and answer size;
 * - RSS (process_resident_memory_bytes from /metrics) before and 1, 5 and 15 s after a hostile burst, and the 5xx count.
 * Env: MODEL_DIR (default: artifacts/ or a model trained into a temp dir), HOSTILE_CONFIGS (default 'default,max').
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_FILES } from '../src/contract/artifact-contract.js';
import { EXAMPLE_PATIENT, FEATURE_NAMES } from '../src/features/feature-schema.js';
import { startApiProcess, type ApiProcess } from '../scripts/lib/api-process.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (message: string) => process.stderr.write(`[bench:hostile] ${message}\n`);

const CONFIGS: Record<string, Record<string, string>> = {
  default: {},
  max: { MAX_BATCH_SIZE: '10000', BODY_LIMIT_BYTES: '8388608', MAX_EXPLAIN_ROWS: '10000' },
};

interface Heavy {
  name: string;
  path: string;
  body: string;
}

const invalidRow = { ...EXAMPLE_PATIENT, age: 500, chol: 5, sex: 9 };
const rowsThatFit = (bytes: number, row: object) => Math.floor(bytes / (JSON.stringify(row).length + 1));

function heavyRequests(maxBatch: number, bodyLimit: number): Heavy[] {
  const valid = Array.from({ length: maxBatch }, (_, i) => ({ ...EXAMPLE_PATIENT, age: 30 + (i % 40) }));
  const invalidCount = rowsThatFit(bodyLimit - 100, invalidRow);
  const tensorRows = Array.from({ length: maxBatch }, () => FEATURE_NAMES.map((n) => (n === 'chol' ? 5000 : EXAMPLE_PATIENT[n]!)));
  return [
    { name: `explain ${maxBatch} valid rows`, path: '/predict?explain=true', body: JSON.stringify({ instances: valid }) },
    { name: `predict ${maxBatch} valid rows`, path: '/predict', body: JSON.stringify({ instances: valid }) },
    {
      name: `${invalidCount} invalid rows (3 problems each)`,
      path: '/predict',
      body: JSON.stringify({ instances: Array.from({ length: invalidCount }, () => invalidRow) }),
    },
    {
      name: `${Math.min(invalidCount, maxBatch)} invalid rows in one batch`,
      path: '/predict',
      body: JSON.stringify({ instances: Array.from({ length: Math.min(invalidCount, maxBatch) }, () => invalidRow) }),
    },
    {
      name: `V2 ${maxBatch} rows, one bad column each`,
      path: '/v2/models/heart-disease/infer',
      body: JSON.stringify({ inputs: [{ name: 'features', shape: [maxBatch, 13], datatype: 'FP32', data: tensorRows }] }),
    },
    {
      name: `nested ${Math.floor(bodyLimit / 2 - 10)} levels`,
      path: '/predict',
      body: '['.repeat(bodyLimit / 2 - 10) + ']'.repeat(bodyLimit / 2 - 10),
    },
  ];
}

async function rss(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
}

/** Poll the probes back to back until `done` resolves; returns each probe's latency (ms). */
async function probeWhile(url: string, done: Promise<unknown>): Promise<number[]> {
  let finished = false;
  void done.finally(() => (finished = true));
  const latencies: number[] = [];
  while (!finished) {
    for (const probe of ['/health', '/ready', '/metrics']) {
      const t = performance.now();
      const res = await fetch(`${url}${probe}`);
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
    }
  }
  return latencies;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
const round = (x: number) => Math.round(x * 10) / 10;

async function measure(name: string, env: Record<string, string>, modelDir: string) {
  const api: ApiProcess = await startApiProcess({ env: { LOG_LEVEL: 'warn', MODEL_DIR: modelDir, ...env }, output: 'ignore' });
  try {
    const maxBatch = Number(env.MAX_BATCH_SIZE ?? 1000);
    const bodyLimit = Number(env.BODY_LIMIT_BYTES ?? 1_048_576);
    const post = async (p: string, body: string) => {
      const t = performance.now();
      const res = await fetch(`${api.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const bytes = (await res.arrayBuffer()).byteLength;
      return { status: res.status, ms: round(performance.now() - t), answerBytes: bytes };
    };
    for (let i = 0; i < 50; i++) await post('/predict', JSON.stringify(EXAMPLE_PATIENT)); // warm up
    const rssBefore = await rss(api.url);
    const heavy = [];
    const statuses: number[] = [];
    for (const request of heavyRequests(maxBatch, bodyLimit)) {
      log(`${name}: ${request.name} (${(request.body.length / 1e6).toFixed(1)} MB)`);
      const answer = post(request.path, request.body);
      const probes = await probeWhile(api.url, answer);
      const result = await answer;
      statuses.push(result.status);
      heavy.push({
        name: request.name,
        ...result,
        probes: probes.length,
        probeWorstMs: round(Math.max(0, ...probes)),
        probeP99Ms: round(quantile(probes, 0.99)),
      });
    }
    // The burst: every heavy request three more times, two at a time.
    const burst = heavyRequests(maxBatch, bodyLimit).flatMap((r) => [r, r, r]);
    for (let i = 0; i < burst.length; i += 2) {
      const answers = await Promise.all(burst.slice(i, i + 2).map((r) => post(r.path, r.body)));
      statuses.push(...answers.map((a) => a.status));
    }
    // RSS after the burst, while idle: V8 gives memory back after its major GCs, so sample it over 15 s.
    const rssAfterMb: Record<string, number> = {};
    let waited = 0;
    for (const at of [1, 5, 15]) {
      await new Promise((r) => setTimeout(r, (at - waited) * 1000));
      waited = at;
      rssAfterMb[`${at}s`] = Math.round((await rss(api.url)) / 2 ** 20);
    }
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    const counted5xx = [...metrics.matchAll(/^hd_http_requests_total\{[^}]*status_code="5\d\d"[^}]*\} (\S+)$/gm)].reduce(
      (s, m) => s + Number(m[1]),
      0,
    );
    return {
      config: name,
      env,
      hostileRequests: statuses.length,
      answered5xx: statuses.filter((s) => s >= 500).length,
      counted5xx,
      probeWorstMs: Math.max(...heavy.map((h) => h.probeWorstMs)),
      rssBeforeMb: Math.round(rssBefore / 2 ** 20),
      rssAfterMb,
      heavy,
    };
  } finally {
    await api.stop();
  }
}

const modelDir = process.env.MODEL_DIR ?? path.join(repoRoot, 'artifacts');
if (!existsSync(path.join(modelDir, MODEL_FILES.onnx))) throw new Error(`no model in ${modelDir}: set MODEL_DIR or run npm run train`);
const results = [];
for (const name of (process.env.HOSTILE_CONFIGS ?? 'default,max').split(',')) results.push(await measure(name, CONFIGS[name]!, modelDir));
process.stdout.write(`${JSON.stringify({ bench: 'hostile', node: process.version, results })}\n`);
