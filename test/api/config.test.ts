/**
 * The API's environment (src/api/config.ts): every variable in API_ENV reaches ApiConfig, defaults and bounds are
 * the schema's, bad values are reported one line each naming the variable, the rule and the value (never a key).
 */
import { describe, expect, it } from 'vitest';
import { API_ENV, ConfigError, environmentHelp, loadConfig } from '../../src/api/config.js';
import type { JsonSchema } from '../../src/config/settings.js';
import { MODEL_URI_PATTERN } from '../../src/mlflow/registry.js';

const variables = Object.entries(API_ENV.properties) as Array<[string, JsonSchema]>;
const KEY = 'k'.repeat(16);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

/** A valid value other than the default, from the variable's own schema. */
function otherValue(s: JsonSchema): string {
  if (s.enum) return String(s.enum.find((value) => value !== s.default));
  switch (s.type) {
    case 'boolean':
      return String(!s.default);
    case 'string':
      return s.examples !== undefined ? String(s.examples[0]) : `${String(s.default)}-other`;
    case 'array':
      return 'x'.repeat(s.items?.minLength ?? 1);
    default: {
      if (s.default === undefined) return String(s.minimum ?? 1);
      const next = (s.default as number) + 1;
      return String(s.maximum === undefined || next <= s.maximum ? next : (s.default as number) - 1);
    }
  }
}

describe('API configuration from API_ENV', () => {
  it('with an empty environment every variable takes its schema default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      modelDir: 'artifacts',
      host: '0.0.0.0',
      port: 8000,
      logLevel: 'info',
      apiKeys: [],
      maxBatchSize: 1000,
      rateLimitMax: null,
      logPatientData: false,
      underPressure: { maxEventLoopUtilization: null },
    });
    // Stating a default explicitly changes nothing: the default in the schema is the one applied.
    for (const [name, s] of variables.filter(([, s]) => s.default !== undefined)) {
      const explicit = Array.isArray(s.default) ? s.default.join(',') : String(s.default);
      expect(loadConfig({ [name]: explicit }), name).toEqual(config);
    }
  });

  /** A valid environment for variables that need another one set (the cross-variable rules). */
  const basicAuth = { MLFLOW_TRACKING_USERNAME: 'user', MLFLOW_TRACKING_PASSWORD: 'secret' };
  const companions: Record<string, Record<string, string>> = {
    MODEL_URI: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' },
    MLFLOW_TRACKING_USERNAME: basicAuth,
    MLFLOW_TRACKING_PASSWORD: basicAuth,
  };

  it.each(variables)('%s reaches the configuration (a non-default value changes it)', (name, s) => {
    const base = companions[name] ?? {};
    expect(loadConfig({ ...base, [name]: otherValue(s) })).not.toEqual(loadConfig(base));
  });

  it.each(variables.filter(([, s]) => s.type === 'integer' || s.type === 'number'))(
    '%s: the bounds are accepted, one step outside is refused naming the rule',
    (name, s) => {
      // A long grace period lets SHUTDOWN_DELAY_MS reach its maximum without breaking the cross-variable rule.
      const base: Record<string, string> = name === 'SHUTDOWN_GRACE_MS' ? {} : { SHUTDOWN_GRACE_MS: '600000' };
      const step = s.type === 'integer' ? 1 : 0.01;
      for (const bound of [s.minimum, s.maximum]) {
        if (bound !== undefined) expect(problemsOf({ ...base, [name]: String(bound) })).toEqual([]);
      }
      if (s.minimum !== undefined) {
        const below = String(Number((s.minimum - step).toFixed(2)));
        expect(problemsOf({ ...base, [name]: below })).toEqual([
          `${name}: must be ${s.type === 'integer' ? 'an integer' : 'a number'} from ${s.minimum} to ${s.maximum}, got '${below}'`,
        ]);
      }
      if (s.type === 'integer')
        expect(problemsOf({ ...base, [name]: '1.5' })[0]).toMatch(new RegExp(`^${name}: must be an integer .*, got '1.5'$`));
    },
  );

  it('reports every bad variable at once, one line each', () => {
    expect(
      problemsOf({ PORT: '70000', MAX_BATCH_SIZE: 'lots', LOG_LEVEL: 'loud', LOG_PATIENT_DATA: 'maybe', RATE_LIMIT_MAX: '0' }),
    ).toEqual([
      "PORT: must be an integer from 0 to 65535, got '70000'",
      "LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
      "MAX_BATCH_SIZE: must be an integer from 1 to 10000, got 'lots'",
      "RATE_LIMIT_MAX: must be an integer from 1 to 1000000, got '0'",
      "LOG_PATIENT_DATA: must be true or false, got 'maybe'",
    ]);
  });

  it('API_KEYS: comma-separated, trimmed, each at least 16 characters; a bad key is counted, never shown', () => {
    expect(loadConfig({ API_KEYS: ` ${KEY} , ${KEY}2 ` }).apiKeys).toEqual([KEY, `${KEY}2`]);
    const problems = problemsOf({ API_KEYS: `${KEY},too-short-key,,` });
    expect(problems).toEqual(['API_KEYS: every key must be at least 16 characters long (3 of 4 are not)']);
    expect(problems.join('')).not.toContain('too-short');
  });

  it('optional variables: absent or blank is off, a value turns them on', () => {
    expect(loadConfig({ RATE_LIMIT_MAX: '', UNDER_PRESSURE_MAX_EVENT_LOOP_UTILIZATION: ' ' })).toMatchObject({
      rateLimitMax: null,
      underPressure: { maxEventLoopUtilization: null },
    });
    expect(loadConfig({ RATE_LIMIT_MAX: '5', UNDER_PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0.9' })).toMatchObject({
      rateLimitMax: 5,
      underPressure: { maxEventLoopUtilization: 0.9 },
    });
  });

  it('MODEL_URI: a models:/ URI with an alias or a version, and only with MLFLOW_TRACKING_URI', () => {
    const tracking = { MLFLOW_TRACKING_URI: 'http://mlflow:5000' };
    expect(loadConfig({ ...tracking, MODEL_URI: 'models:/heart-disease-risk@champion' })).toMatchObject({
      modelUri: 'models:/heart-disease-risk@champion',
      mlflow: { trackingUri: 'http://mlflow:5000' },
      modelPollIntervalMs: 30_000,
    });
    expect(loadConfig({ ...tracking, MODEL_URI: 'models:/heart-disease-risk/12' }).modelUri).toBe('models:/heart-disease-risk/12');
    expect(loadConfig({}).modelUri).toBeNull();
    for (const bad of ['models:/heart-disease-risk', 'models:/heart-disease-risk/latest', 'runs:/abc/model', 'models:/a@b@c']) {
      expect(problemsOf({ ...tracking, MODEL_URI: bad })).toEqual([`MODEL_URI: must be matching /${MODEL_URI_PATTERN}/, got '${bad}'`]);
    }
    expect(problemsOf({ MODEL_URI: 'models:/heart-disease-risk@champion' })).toEqual([
      'MODEL_URI needs MLFLOW_TRACKING_URI: the address of the MLflow server holding the model',
    ]);
    expect(problemsOf({ MLFLOW_TRACKING_URI: 'file:./mlruns' })).toEqual([
      "MLFLOW_TRACKING_URI: must be matching /^https?:///, got 'file:./mlruns'",
    ]);
  });

  it('MLFLOW_TRACKING_URI: credentials in the URL are refused without echoing them', () => {
    const problems = problemsOf({ MLFLOW_TRACKING_URI: 'http://ops:s3cret@mlflow:5000' });
    expect(problems).toEqual([
      'MLFLOW_TRACKING_URI: put credentials in MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN), not in the URL',
    ]);
    expect(problems.join('')).not.toContain('s3cret');
  });

  it('MLflow basic auth needs both user and password; the password is never shown', () => {
    expect(problemsOf({ MLFLOW_TRACKING_USERNAME: 'ops' })).toEqual([
      'MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD go together: set both or neither',
    ]);
    expect(loadConfig({ MLFLOW_TRACKING_USERNAME: 'ops', MLFLOW_TRACKING_PASSWORD: 'pw' }).mlflow).toMatchObject({
      username: 'ops',
      password: 'pw',
    });
  });

  it('SHUTDOWN_DELAY_MS must stay below SHUTDOWN_GRACE_MS', () => {
    expect(problemsOf({ SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_GRACE_MS: '5000' })).toEqual([
      'SHUTDOWN_DELAY_MS (5000) must be less than SHUTDOWN_GRACE_MS (5000)',
    ]);
    expect(problemsOf({ SHUTDOWN_DELAY_MS: '4999', SHUTDOWN_GRACE_MS: '5000' })).toEqual([]);
  });

  it('every variable has a meaning, and the help on stderr names each with its default', () => {
    const help = environmentHelp();
    for (const [name, s] of variables) {
      expect(s.description, name).toBeTruthy();
      expect(help).toMatch(new RegExp(`^ {2}${name} `, 'm'));
    }
  });
});
