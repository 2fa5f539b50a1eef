/**
 * A real Prometheus (Debian `prometheus`) scraping the real API, both on 127.0.0.1: the shipped scrape config
 * (deploy/monitoring/prometheus/prometheus.yml) with its target pointed at the API's port and a 1 s interval, the
 * shipped alert rules loaded. Finds the API's series through Prometheus' HTTP query API, evaluates every dashboard
 * query, and watches the "API down" alert go pending when the API stops. Model: artifacts/ if trained, else a
 * fresh training run into a temp dir.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { clevelandFile, repoRoot } from '../support/paths.js';
import { realComponent } from '../support/real-component.js';
import { runTrainCli } from '../support/run-cli.js';
import { dashboardQueries, loadDashboard, resolveGrafanaVariables } from './dashboard-queries.js';
import { freePort } from '../../scripts/lib/free-port.js';
import { startApiProcess } from '../../scripts/lib/api-process.js';

const prometheusFound = spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).status === 0;
const havePrometheus = realComponent('prometheus', prometheusFound, 'prometheus not on PATH (bash scripts/ci/install-prometheus.sh)');

type Sample = { metric: Record<string, string>; value: [number, string] };
interface QueryResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: Sample[] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Thrown by a probe when waiting longer cannot help (the process died). */
class GaveUp extends Error {}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes; bounded, never endless. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof GaveUp) throw err;
      lastError = (err as Error).message;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`);
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function firstClevelandPatient(): Record<string, number | null> {
  const row = readFileSync(clevelandFile, 'utf8').split('\n')[0]!.split(',');
  return Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, row[i] === '?' ? null : Number(row[i])]));
}

describe.runIf(havePrometheus)('real Prometheus scraping the real API on 127.0.0.1', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'hd-prometheus-'));
  let api: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let apiUrl = '';
  let promUrl = '';
  let apiOutput = () => '';
  const predictStatuses: number[] = [];
  let modelDir = path.join(repoRoot, 'artifacts');
  let promLog = '';

  const query = async (promql: string): Promise<QueryResponse> => {
    const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return (await response.json()) as QueryResponse;
  };
  const series = (promql: string) =>
    eventually(`series for ${promql}`, async () => {
      const result = await query(promql);
      return result.status === 'success' && result.data.result.length > 0 ? result.data.result : undefined;
    });

  beforeAll(async () => {
    if (!existsSync(path.join(modelDir, 'model.onnx')) || !existsSync(path.join(modelDir, 'model.json'))) {
      modelDir = path.join(scratch, 'model');
      const trained = await runTrainCli(['--data', clevelandFile, '--out', modelDir, '--runs-dir', path.join(scratch, 'runs')]);
      if (trained.code !== 0) throw new Error(`training for the Prometheus test failed: ${trained.stderr}`);
    }
    // Load shedding off: a stall of the loaded machine is not what this test is about (see test/api/support/app.ts).
    const started = await startApiProcess({
      env: { MODEL_DIR: modelDir, LOG_LEVEL: 'warn', API_KEYS: '', UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0' },
      readyPaths: ['/health'],
      timeoutMs: 90_000,
    });
    api = started.child;
    apiUrl = started.url;
    apiOutput = started.output;
    const apiPort = started.port;
    const alive = (child: ChildProcess | undefined, name: string) => {
      if (child?.exitCode !== null || child?.signalCode !== null)
        throw new GaveUp(`${name} exited (${child?.exitCode ?? child?.signalCode}); API output:\n${apiOutput().slice(-2000)}`);
    };

    // Some traffic so request counters and prediction counters have series.
    const patient = firstClevelandPatient();
    for (let i = 0; i < 3; i++) {
      await fetch(`${apiUrl}/health`);
      const response = await fetch(`${apiUrl}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(patient),
      });
      predictStatuses.push(response.status);
    }

    // The shipped config, pointed at this API, scraping every second.
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const config = parse(readFileSync(path.join(repoRoot, 'deploy/monitoring/prometheus/prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    config.global.scrape_interval = '1s';
    config.global.scrape_timeout = '1s';
    config.global.evaluation_interval = '1s';
    config.rule_files = config.rule_files.map((file) => path.join(repoRoot, 'deploy/monitoring/prometheus', file));
    for (const job of config.scrape_configs) {
      for (const target of job.static_configs) {
        target.targets = target.targets.map((t) =>
          t === 'api:8000' ? `127.0.0.1:${apiPort}` : t === 'localhost:9090' ? `127.0.0.1:${promPort}` : t,
        );
      }
    }
    writeFileSync(path.join(scratch, 'prometheus.yml'), stringify(config));
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(scratch, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(scratch, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (d: Buffer) => (promLog += d.toString()));
    prometheus.stderr?.on('data', (d: Buffer) => (promLog += d.toString()));
    await eventually(
      'Prometheus to be ready',
      async () => {
        alive(prometheus, 'prometheus');
        return (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nPrometheus output:\n${promLog.slice(-3000)}`);
    });
  }, 600_000);

  afterAll(async () => {
    await stop(api);
    await stop(prometheus);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('the API target is up under job heart-disease-api', async () => {
    const up = await series('up{job="heart-disease-api"} == 1');
    expect(up[0]!.metric.instance).toBe(new URL(apiUrl).host);
  });

  it('finds hd_model_info with the model version and name', async () => {
    const info = await series('hd_model_info{job="heart-disease-api"}');
    const model = JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as { modelVersion: string; selectedModel: string };
    expect(info).toHaveLength(1);
    expect(info[0]!.value[1]).toBe('1');
    expect(info[0]!.metric).toMatchObject({ version: model.modelVersion, model: model.selectedModel });
  });

  it('finds hd_http_requests_total for the requests made, by route and status code', async () => {
    const requests = await series('hd_http_requests_total{job="heart-disease-api",route="/health",status_code="200"}');
    expect(Number(requests[0]!.value[1])).toBeGreaterThanOrEqual(3);
    expect(requests[0]!.metric.method).toBe('GET');
  });

  it('counts the predictions made through /predict by label', async () => {
    expect(predictStatuses).toEqual([200, 200, 200]);
    const byLabel = await series('sum by (label) (hd_predictions_total{job="heart-disease-api"})');
    expect(byLabel.every((s) => ['0', '1'].includes(s.metric.label!))).toBe(true);
    expect(byLabel.reduce((sum, s) => sum + Number(s.value[1]), 0)).toBe(3);
  });

  it('loads the alert rules and evaluates them without errors; the recording rules produce series', async () => {
    const groups = await eventually('rules to be evaluated', async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
        data: {
          groups: Array<{ name: string; lastEvaluation: string; rules: Array<{ name: string; health: string; lastError?: string }> }>;
        };
      };
      const evaluated = body.data.groups.every((g) => !g.lastEvaluation.startsWith('0001'));
      return evaluated && body.data.groups.length > 0 ? body.data.groups : undefined;
    });
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name)).toEqual(
      expect.arrayContaining(['HeartDiseaseApiHighErrorRate', 'HeartDiseaseApiDown', 'HeartDiseaseApiDataDrift']),
    );
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
    await series('hd:http_requests:rate5m');
  });

  it('every dashboard query is valid PromQL for this Prometheus', async () => {
    const failures: string[] = [];
    for (const { panel, expr } of dashboardQueries(loadDashboard())) {
      const result = await query(resolveGrafanaVariables(expr));
      if (result.status !== 'success') failures.push(`${panel}: ${result.error}`);
    }
    expect(failures).toEqual([]);
    // Panels fed by the API itself show data (kube-state-metrics ones stay empty without a cluster).
    expect((await query(resolveGrafanaVariables('sum(up{job=~"$job"})'))).data.result[0]!.value[1]).toBe('1');
  });

  it('when the API stops, the HeartDiseaseApiDown alert becomes pending', async () => {
    await stop(api);
    const alert = await eventually('HeartDiseaseApiDown to be pending', async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as {
        data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
      };
      return body.data.alerts.find((a) => a.labels.alertname === 'HeartDiseaseApiDown');
    });
    expect(['pending', 'firing']).toContain(alert.state);
  });
});
