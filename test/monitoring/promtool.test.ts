/**
 * Prometheus configuration and alert rules checked by the real promtool (Debian `prometheus`,
 * scripts/ci/install-prometheus.sh): config syntax, rule syntax, and the promtool unit tests in
 * alert-rules.test.yml that show each alert firing and not firing.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../support/paths.js';
import { realComponent } from '../support/real-component.js';

const promtoolFound = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const havePromtool = realComponent('promtool', promtoolFound, 'promtool not on PATH (bash scripts/ci/install-prometheus.sh)');
const promDir = path.join(repoRoot, 'deploy/monitoring/prometheus');

function promtool(args: string[], cwd = repoRoot) {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe.runIf(havePromtool)('Prometheus config and alert rules (real promtool)', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'hd-promtool-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('promtool check config accepts the compose config and finds its rule file', () => {
    const run = promtool(['check', 'config', 'prometheus.yml'], promDir);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/SUCCESS: 1 rule files found/);
    expect(run.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the compose config scrapes api:8000 as job heart-disease-api', () => {
    const config = parse(readFileSync(path.join(promDir, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const job = config.scrape_configs.find((c) => c.job_name === 'heart-disease-api');
    expect(job?.static_configs[0]?.targets).toEqual(['api:8000']);
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
  });

  it('the Kubernetes variant is valid apart from kubernetes_sd, which Debian builds Prometheus without', () => {
    // Debian's prometheus package drops the kubernetes_sd discovery; the rest (relabel rules, regexes, rule files)
    // is checked by swapping the discovery for a static target.
    const config = parse(readFileSync(path.join(promDir, 'prometheus-k8s.yml'), 'utf8')) as {
      scrape_configs: Array<Record<string, unknown>>;
    };
    const job = config.scrape_configs.find((c) => c.job_name === 'heart-disease-api')!;
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod' }]);
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['10.0.0.1:8000'] }];
    writeFileSync(path.join(scratch, 'prometheus-k8s.yml'), stringify(config));
    copyFileSync(path.join(promDir, 'alert-rules.yml'), path.join(scratch, 'alert-rules.yml'));
    const run = promtool(['check', 'config', 'prometheus-k8s.yml'], scratch);
    expect(run.code, run.output).toBe(0);
  });

  it('promtool check rules accepts the alert rules', () => {
    const run = promtool(['check', 'rules', 'deploy/monitoring/prometheus/alert-rules.yml']);
    expect(run.code, run.output).toBe(0);
  });

  it('defines the five alerts the issue asks for, each with severity and summary', () => {
    const rules = parse(readFileSync(path.join(promDir, 'alert-rules.yml'), 'utf8')) as {
      groups: Array<{
        rules: Array<{ alert?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }>;
      }>;
    };
    const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    const exprOf = (name: string) => alerts.find((a) => a.alert === name)?.expr ?? '';
    expect(exprOf('HeartDiseaseApiHighErrorRate')).toContain('hd:http_5xx_ratio:rate5m');
    expect(exprOf('HeartDiseaseApiHighLatencyP99')).toContain('hd:http_request_duration_seconds:p99_5m');
    expect(exprOf('HeartDiseaseApiDataDrift')).toMatch(/hd_drift_status\) == 2/);
    expect(exprOf('HeartDiseaseApiDown')).toContain('up{job="heart-disease-api"}');
    expect(exprOf('HeartDiseaseApiModelReloadFailures')).toContain('hd_model_reloads_total{result="failure"}');
    // Issue 11: a surge of refused rows (refused traffic never reaches the drift window).
    expect(exprOf('HeartDiseaseApiRefusalSurge')).toContain('hd:refused_rows_share:rate10m > 0.5');
    for (const alert of alerts) {
      expect(alert.labels?.severity, alert.alert).toMatch(/^(critical|warning)$/);
      expect(alert.annotations?.summary, alert.alert).toBeTruthy();
    }
  });

  it('promtool test rules: every alert fires on bad series and stays silent on good ones', () => {
    const run = promtool(['test', 'rules', 'test/monitoring/alert-rules.test.yml']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });

  it('the unit tests can fail: a weakened threshold is caught', () => {
    const rulesCopy = path.join(scratch, 'alert-rules.yml');
    writeFileSync(
      rulesCopy,
      readFileSync(path.join(promDir, 'alert-rules.yml'), 'utf8').replace(
        'hd:http_5xx_ratio:rate5m > 0.05',
        'hd:http_5xx_ratio:rate5m > 0.5',
      ),
    );
    const testsCopy = path.join(scratch, 'alert-rules.test.yml');
    writeFileSync(
      testsCopy,
      readFileSync(path.join(repoRoot, 'test/monitoring/alert-rules.test.yml'), 'utf8').replace(
        '../../deploy/monitoring/prometheus/alert-rules.yml',
        'alert-rules.yml',
      ),
    );
    const run = promtool(['test', 'rules', 'alert-rules.test.yml'], scratch);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('HeartDiseaseApiHighErrorRate');
  });
});
