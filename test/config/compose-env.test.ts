/**
 * deploy/docker-compose.yml's environment for the API service against the API's schema: every name is a variable
 * API_ENV declares and the values, interpolated as Compose does, pass loadConfig (with nothing exported, and with
 * what an operator might export).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/paths.js';
import { runProcess } from '../../scripts/lib/process.js';
import { apiEnvProblems } from '../support/api-env.js';
import { realComponent } from '../support/real-component.js';

const composeFile = path.join(repoRoot, 'deploy/docker-compose.yml');
const cli = await runProcess('docker', ['compose', 'version', '--short']).catch(() => null);

/** Compose interpolation of ${VAR}, ${VAR:-default}, ${VAR-default}, $VAR and $$ against `shell`. */
function interpolate(text: string, shell: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\{(\w+)(?:(:?)-([^}]*))?\}|\$(\w+)/g,
    (match, braced?: string, colon?: string, fallback?: string, bare?: string) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare)!;
      const value = shell[name];
      if (fallback === undefined) return value ?? '';
      return value === undefined || (colon === ':' && value === '') ? fallback : value;
    },
  );
}

function apiEnvironment(shell: Record<string, string>): Record<string, string> {
  const compose = parse(readFileSync(composeFile, 'utf8')) as { services: { api: { environment?: Record<string, string> | string[] } } };
  const environment = compose.services.api.environment ?? {};
  const entries = Array.isArray(environment)
    ? environment.map((line) => line.split(/=(.*)/s, 2) as [string, string])
    : Object.entries(environment).map(([key, value]) => [key, String(value ?? '')] as [string, string]);
  return Object.fromEntries(entries.map(([key, value]) => [key, interpolate(value, shell)]));
}

describe('docker-compose.yml: the API service environment', () => {
  it('names only API variables, and with nothing exported the values are valid', () => {
    const env = apiEnvironment({});
    expect(Object.keys(env).length).toBeGreaterThan(0);
    expect(apiEnvProblems(env)).toEqual([]);
  });

  it('an exported value reaches the API and is checked by its schema', () => {
    const key = 'c'.repeat(16);
    expect(apiEnvProblems(apiEnvironment({ LOG_LEVEL: 'warn', API_KEYS: key }))).toEqual([]);
    expect(apiEnvProblems(apiEnvironment({ LOG_LEVEL: 'loud' }))).toEqual([
      "LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
    ]);
  });

  it('serves from the registry when MODEL_URI and MLFLOW_TRACKING_URI are exported, and refuses one without the other', () => {
    const registry = { MODEL_URI: 'models:/heart-disease-risk@champion', MLFLOW_TRACKING_URI: 'http://mlflow:5000' };
    expect(apiEnvironment(registry)).toMatchObject(registry);
    expect(apiEnvProblems(apiEnvironment(registry))).toEqual([]);
    expect(apiEnvProblems(apiEnvironment({ MODEL_URI: registry.MODEL_URI }))).toEqual([
      'MODEL_URI needs MLFLOW_TRACKING_URI: the address of the MLflow server holding the model',
    ]);
  });

  it('interpolates as Compose does', () => {
    expect(interpolate('${A:-x} ${A-y} ${B} $B $$B', { A: '' })).toBe('x    $B');
    expect(interpolate('${A:-x}/${A-y}/${B}/$B/$$B', { A: 'a', B: 'b' })).toBe('a/a/b/b/$B');
  });

  it.runIf(realComponent('Docker Compose v2', cli?.code === 0 && /^2\./.test(cli.stdout.trim()), 'run scripts/ci/install-compose.sh'))(
    'the same environment as `docker compose config` resolves',
    async () => {
      const shells: Array<Record<string, string>> = [{}, { LOG_LEVEL: 'warn', API_KEYS: 'c'.repeat(16) }];
      for (const shell of shells) {
        // Only `shell` decides: the variables the file interpolates are removed from the inherited environment.
        const unset = Object.fromEntries(Object.keys(apiEnvironment({})).map((name) => [name, undefined]));
        const result = await runProcess('docker', ['compose', '-f', composeFile, 'config'], { env: { ...unset, ...shell } });
        expect(result.code, result.stderr).toBe(0);
        const resolved = parse(result.stdout) as { services: { api: { environment?: Record<string, string> } } };
        expect(resolved.services.api.environment ?? {}).toEqual(apiEnvironment(shell));
      }
    },
  );
});
