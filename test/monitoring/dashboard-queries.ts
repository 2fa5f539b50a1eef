/** Reading the Grafana dashboard's PromQL queries, for the structure test and the live Prometheus test. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/paths.js';

export interface Panel {
  id: number;
  title: string;
  type: string;
  datasource?: unknown;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string; refId: string }>;
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(path.join(repoRoot, 'deploy/monitoring/grafana/dashboards/heart-disease-api.json'), 'utf8')) as Dashboard;
}

export function dashboardQueries(dashboard: Dashboard): Array<{ panel: string; expr: string }> {
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
}

/** Grafana's variables replaced by what they become for a single job, so Prometheus can run the query. */
export function resolveGrafanaVariables(expr: string, job = 'heart-disease-api'): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', job);
}

const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'rate',
  'irate',
  'increase',
  'delta',
  'histogram_quantile',
  'label_values',
  'vector',
  'absent',
  'clamp_min',
  'clamp_max',
  'topk',
  'bottomk',
]);

/** Metric names in a PromQL expression: identifiers not inside {...} or [...] and not followed by "(" or in a by/on list. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const next = stripped.slice(match.index + word.length).trimStart();
    if (PROMQL_WORDS.has(word) || next.startsWith('(')) continue;
    names.add(word);
  }
  return [...names];
}
