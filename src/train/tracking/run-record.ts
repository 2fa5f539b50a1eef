/**
 * What a training run reports to the trackers (local store and MLflow), and the pure checks and
 * flattening both share.
 *
 *   interface RunRecord { runName; params; metrics; tags?; artifactFiles?; startTime?; status? }
 *   validateRunRecord(run: RunRecord): void                       // throws naming the field and the rule
 *   flattenParams(params: ParamTree): Array<{ key: string; value: string }>
 *   flattenMetrics(metrics: MetricTree): Array<{ key: string; value: number }>
 *
 * Params and metrics may be nested (e.g. `models.logistic_regression.holdout.auc`); trackers with flat keys
 * (MLflow) join the path with dots.
 */

export type ParamValue = string | number | boolean | null;
export interface ParamTree {
  [key: string]: ParamValue | ParamValue[] | ParamTree;
}
export interface MetricTree {
  [key: string]: number | MetricTree;
}

export type RunStatus = 'FINISHED' | 'FAILED';

export interface RunRecord {
  /** Human-readable name, e.g. `train-logistic_regression`. */
  runName: string;
  params: ParamTree;
  metrics: MetricTree;
  tags?: Record<string, string>;
  /** Paths of files to keep with the run (model.onnx, model.json, report.html); stored under their base names. */
  artifactFiles?: string[];
  /** When training started; defaults to the time the run is recorded. */
  startTime?: Date;
  status?: RunStatus;
}

/** Keys MLflow accepts: alphanumerics, underscore, dash, period, space, slash (we apply the same rule locally). */
const KEY_PATTERN = /^[A-Za-z0-9_\-. /]+$/;
export const MAX_KEY_LENGTH = 250;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKey(field: string, key: string): void {
  if (key.length === 0) throw new Error(`${field}: empty key is not allowed`);
  if (key.length > MAX_KEY_LENGTH) throw new Error(`${field}.${key}: key is longer than ${MAX_KEY_LENGTH} characters`);
  if (!KEY_PATTERN.test(key)) {
    throw new Error(`${field}.${key}: key may contain only letters, digits, '_', '-', '.', ' ' and '/'`);
  }
}

export function flattenParams(params: ParamTree, prefix = ''): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (const [name, value] of Object.entries(params)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (isPlainObject(value)) out.push(...flattenParams(value as ParamTree, key));
    else out.push({ key, value: typeof value === 'string' ? value : JSON.stringify(value) });
  }
  return out;
}

export function flattenMetrics(metrics: MetricTree, prefix = ''): Array<{ key: string; value: number }> {
  const out: Array<{ key: string; value: number }> = [];
  for (const [name, value] of Object.entries(metrics)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (isPlainObject(value)) out.push(...flattenMetrics(value as MetricTree, key));
    else out.push({ key, value: value as number });
  }
  return out;
}

export function validateRunRecord(run: RunRecord): void {
  if (typeof run.runName !== 'string' || run.runName.trim() === '') {
    throw new Error('runName: must be a non-empty string');
  }
  if (!isPlainObject(run.params)) throw new Error('params: must be an object');
  if (!isPlainObject(run.metrics)) throw new Error('metrics: must be an object');
  for (const { key, value } of flattenParams(run.params)) {
    checkKey('params', key);
    if (value === undefined) throw new Error(`params.${key}: value must be JSON-serialisable, got undefined`);
  }
  for (const { key, value } of flattenMetrics(run.metrics)) {
    checkKey('metrics', key);
    // JSON (and MLflow's REST API) cannot carry NaN or Infinity; writing them would silently become null.
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`metrics.${key}: must be a finite number, got ${String(value)}`);
    }
  }
  for (const [key, value] of Object.entries(run.tags ?? {})) {
    checkKey('tags', key);
    if (typeof value !== 'string') throw new Error(`tags.${key}: must be a string`);
  }
  for (const file of run.artifactFiles ?? []) {
    if (typeof file !== 'string' || file === '') throw new Error('artifactFiles: every entry must be a file path');
  }
  const names = (run.artifactFiles ?? []).map((f) => f.split(/[\\/]/).pop());
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new Error(`artifactFiles: two files share the base name ${duplicate}; artifacts are stored by base name`);
  if (run.status !== undefined && run.status !== 'FINISHED' && run.status !== 'FAILED') {
    throw new Error(`status: must be FINISHED or FAILED, got ${String(run.status)}`);
  }
}
