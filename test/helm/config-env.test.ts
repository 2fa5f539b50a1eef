/**
 * The environment the chart gives the API container (its ConfigMap and Secret through envFrom, and literal env
 * values), rendered by the real helm for values.yaml, values-dev.yaml and values-prod.yaml: every name is a variable
 * of the API's schema and the values pass the API's own loadConfig.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/release/helm.js';
import { realComponent } from '../support/real-component.js';
import { apiEnvProblems } from '../support/api-env.js';
import { podSpecOf } from './policy.js';
import { devValues, helmBin, helmTemplate, prodValues, single } from './render.js';

const haveHelm = realComponent('helm', helmBin !== undefined, 'no helm on PATH, HELM_BIN or ~/go/bin (bash scripts/ci/install-helm.sh)');

interface EnvContainer {
  name: string;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
}

/** What the API process sees: envFrom sources in order, then env (which wins), as the kubelet builds it. */
function containerEnv(objects: KubeObject[]): Record<string, string> {
  const container = podSpecOf(single(objects, 'Deployment'))!.containers[0] as unknown as EnvContainer;
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, find('ConfigMap', source.configMapRef.name)?.data ?? {});
    if (source.secretRef) {
      const data = (find('Secret', source.secretRef.name)?.data ?? {}) as Record<string, string>;
      for (const [key, value] of Object.entries(data)) env[key] = Buffer.from(value, 'base64').toString();
    }
  }
  // valueFrom entries (POD_NAME from the downward API) are facts about the pod, not settings.
  for (const entry of container.env ?? []) if (entry.value !== undefined) env[entry.name] = entry.value;
  return env;
}

describe.runIf(haveHelm)("the chart's API environment against the API's schema (real helm)", () => {
  it.each([
    ['values.yaml', []],
    ['values-dev.yaml', [devValues]],
    ['values-prod.yaml', [prodValues]],
  ])('%s: every variable is known to the API and valid', (_name, valuesFiles) => {
    const env = containerEnv(helmTemplate('heart-disease-api', 'hd', valuesFiles));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['HOST', 'PORT', 'MODEL_DIR', 'LOG_LEVEL', 'SHUTDOWN_GRACE_MS']));
    expect(apiEnvProblems(env)).toEqual([]);
  });

  it('with API keys and every config value the chart passes through, still valid', () => {
    const objects = helmTemplate(
      'hd',
      'x',
      [devValues],
      ['--set', 'apiKeys=aaaaaaaaaaaaaaaa\\,bbbbbbbbbbbbbbbb', '--set', 'config.RATE_LIMIT_MAX=100', '--set', 'shutdown.delayMs=3000'],
    );
    const env = containerEnv(objects);
    expect(env).toMatchObject({ API_KEYS: 'aaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbb', RATE_LIMIT_MAX: '100', SHUTDOWN_DELAY_MS: '3000' });
    expect(apiEnvProblems(env)).toEqual([]);
  });

  it('with the registry on (registry.modelUri, trackingUri, pollIntervalSeconds), still valid and complete', () => {
    const env = containerEnv(
      helmTemplate(
        'hd',
        'x',
        [prodValues],
        [
          '--set',
          'registry.modelUri=models:/heart-disease-risk@champion',
          '--set',
          'registry.trackingUri=http://mlflow.mlflow.svc:5000',
          '--set',
          'registry.pollIntervalSeconds=10',
        ],
      ),
    );
    expect(env).toMatchObject({
      MODEL_URI: 'models:/heart-disease-risk@champion',
      MLFLOW_TRACKING_URI: 'http://mlflow.mlflow.svc:5000',
      MODEL_POLL_INTERVAL_S: '10',
    });
    expect(apiEnvProblems(env)).toEqual([]);
    // The API's own rules apply to what the chart passes: a version 0 is no version.
    const bad = containerEnv(
      helmTemplate('hd', 'x', [prodValues], ['--set', 'registry.modelUri=models:/m/0', '--set', 'registry.trackingUri=http://m:5000']),
    );
    expect(apiEnvProblems(bad)).toEqual([expect.stringMatching(/^MODEL_URI: must be matching .*, got 'models:\/m\/0'$/)]);
  });

  it('a misspelt or out-of-range config value is caught (the check is not vacuous)', () => {
    const env = containerEnv(helmTemplate('hd', 'x', [devValues], ['--set', 'config.LOG_LEVL=debug', '--set', 'config.MAX_BATCH_SIZE=0']));
    expect(apiEnvProblems(env)).toEqual([
      'LOG_LEVL: not a variable of the API (API_ENV in src/api/config.ts)',
      "MAX_BATCH_SIZE: must be an integer from 1 to 10000, got '0'",
    ]);
    // The cross-variable rule is the API's too: a delay as long as the grace period is refused.
    const delayed = containerEnv(helmTemplate('hd', 'x', [devValues], ['--set', 'shutdown.delayMs=20000']));
    expect(apiEnvProblems(delayed)).toEqual(['SHUTDOWN_DELAY_MS (20000) must be less than SHUTDOWN_GRACE_MS (10000)']);
  });
});
