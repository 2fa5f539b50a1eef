/**
 * The Grafana dashboard and the compose stack's provisioning files: structure Grafana needs, the panels the issue
 * asks for, and queries that only use metrics the API exports (its hd_* contract, prom-client defaults, `up`) or
 * kube-state-metrics. The PromQL itself is evaluated by a real Prometheus in prometheus-live.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/paths.js';
import { dashboardQueries, loadDashboard, metricNames } from './dashboard-queries.js';

const grafana = path.join(repoRoot, 'deploy/monitoring/grafana');
const CONTRACT = [
  'hd_http_requests_total',
  'hd_http_request_duration_seconds_bucket',
  'hd_predictions_total',
  'hd_prediction_probability_bucket',
  'hd_model_info',
  'hd_drift_psi',
  'hd_drift_ks',
  'hd_drift_status',
  'hd_model_reloads_total',
  'hd_refused_rows_total',
  'hd_refusals_total',
  'hd_live_roc_auc',
  'hd_live_brier',
  'hd_live_log_loss',
  'hd_live_mean_predicted',
  'hd_live_observed_rate',
  'hd_live_labelled_predictions',
  'hd_training_roc_auc_lower_bound',
  'hd_prediction_log_written_rows_total',
  'hd_prediction_log_queued_rows',
  'hd_prediction_store_failures_total',
  'hd_feedback_total',
];

describe('Grafana dashboard heart-disease-api', () => {
  const dashboard = loadDashboard();

  it('has a stable uid, unique panel ids and a grid position for every panel', () => {
    expect(dashboard.uid).toBe('heart-disease-api');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos, panel.title).toEqual({
        x: expect.any(Number),
        y: expect.any(Number),
        w: expect.any(Number),
        h: expect.any(Number),
      });
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it('covers traffic, latency, errors, predictions by label, drift per feature and replicas', () => {
    const queries = dashboardQueries(dashboard);
    const has = (pattern: RegExp) => queries.some((q) => pattern.test(q.expr));
    expect(has(/sum by \(route\) \(rate\(hd_http_requests_total/)).toBe(true);
    expect(has(/histogram_quantile\(0\.99, .*hd_http_request_duration_seconds_bucket/)).toBe(true);
    expect(has(/hd_http_requests_total\{[^}]*status_code=~"5\.\."/)).toBe(true);
    expect(has(/sum by \(label\) \(rate\(hd_predictions_total/)).toBe(true);
    expect(has(/by \(feature\) \(hd_drift_psi/)).toBe(true);
    expect(has(/by \(feature\) \(hd_drift_ks/)).toBe(true);
    expect(has(/kube_deployment_status_replicas_available/)).toBe(true);
    expect(has(/count\(up\{/)).toBe(true);
    // Refused input by field and rule (issue 11): traffic the drift panels cannot see.
    expect(has(/sum by \(field, rule\) \(rate\(hd_refusals_total/)).toBe(true);
    expect(has(/hd_refused_rows_total.*hd_predictions_total/)).toBe(true);
    // Outcomes (issue 13): live AUC against training's bound, calibration, the log's health.
    expect(has(/hd_live_roc_auc\{[^}]*window="count"/)).toBe(true);
    expect(has(/hd_training_roc_auc_lower_bound/)).toBe(true);
    expect(has(/hd_live_mean_predicted/) && has(/hd_live_observed_rate/)).toBe(true);
    expect(has(/hd_live_brier/)).toBe(true);
    expect(has(/hd_prediction_store_failures_total/)).toBe(true);
  });

  it('queries only metrics the API exports (or up, kube-state-metrics)', () => {
    const allowed = (name: string) => CONTRACT.includes(name) || /^(process_|nodejs_|kube_deployment_)/.test(name) || name === 'up';
    const unknown = dashboardQueries(dashboard).flatMap((q) =>
      metricNames(q.expr)
        .filter((name) => !allowed(name))
        .map((name) => `${q.panel}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('every query goes through the datasource variable, which the provisioning defines', () => {
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    const datasources = parse(readFileSync(path.join(grafana, 'provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: Array<{ type: string; url: string; uid: string }>;
    };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', uid: 'prometheus' }),
    ]);
  });

  it('the dashboard provider loads the directory the compose file mounts the dashboards into', () => {
    const provider = parse(readFileSync(path.join(grafana, 'provisioning/dashboards/heart-disease.yml'), 'utf8')) as {
      providers: Array<{ type: string; options: { path: string } }>;
    };
    const compose = readFileSync(path.join(repoRoot, 'deploy/docker-compose.yml'), 'utf8');
    const mount = /\.\/monitoring\/grafana\/dashboards:([^:\s]+)/.exec(compose)?.[1];
    expect(provider.providers[0]!.options.path).toBe(mount);
  });

  it('metricNames finds metric names and skips functions, labels and keywords (the check above can fail)', () => {
    expect(metricNames('sum by (le) (rate(foo_bucket{job=~"$job",route!="/metrics"}[5m])) / on(instance) bar_total')).toEqual([
      'foo_bucket',
      'bar_total',
    ]);
  });
});
