/**
 * API configuration: every setting is an environment variable, stated once in API_ENV (type, default, range or
 * allowed values, meaning) and validated once at start-up. The error lines, the server's help on stderr, the table in
 * src/api/README.md (npm run docs:config) and the checks on the Helm chart's and compose file's environment all come
 * from that schema. Pure: `loadConfig(env)` reads only the object it is given.
 *
 * Validation is env-schema's, the library @fastify/env wraps. Not @fastify/env itself: it decorates a Fastify
 * instance, but the configuration is needed before that instance exists (its logger level, body limit, port).
 *
 * Adding a variable: one property in API_ENV and one line in toApiConfig.
 */
import Type, { type Static } from 'typebox';
import { API_PORT } from '../contract/artifact-contract.js';
import { normaliseTrackingUri } from '../mlflow/client.js';
import { MODEL_URI_PATTERN } from '../mlflow/registry.js';
import { DEFAULT_PREDICTION_LOG_PATH } from '../outcomes/open-store.js';
import { ENV_SOURCE, readEnv, settingsHelp, settingsTable } from '../config/settings.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const integer = (minimum: number, maximum: number, defaultValue: number, description: string) =>
  Type.Integer({ minimum, maximum, default: defaultValue, description });

export const API_ENV = Type.Object(
  {
    MODEL_DIR: Type.String({
      default: 'artifacts',
      description: 'directory with model.onnx and model.json; served unless MODEL_URI is set',
    }),
    MODEL_URI: Type.Optional(
      Type.String({
        pattern: MODEL_URI_PATTERN,
        examples: ['models:/heart-disease-risk@champion'],
        description:
          'serve this MLflow registry model instead of MODEL_DIR: `models:/<name>@<alias>` (followed: a moved alias is ' +
          'swapped in) or `models:/<name>/<version>`; needs MLFLOW_TRACKING_URI. Start fails if it cannot be fetched',
      }),
    ),
    MLFLOW_TRACKING_URI: Type.Optional(
      Type.String({
        pattern: '^https?://',
        examples: ['http://127.0.0.1:5000'],
        description: 'http(s) address of the MLflow tracking server holding MODEL_URI (artifacts proxied by the server)',
      }),
    ),
    MLFLOW_TRACKING_TOKEN: Type.Optional(
      Type.String({ writeOnly: true, description: 'bearer token for the MLflow server; unset: no token' }),
    ),
    MLFLOW_TRACKING_USERNAME: Type.Optional(
      Type.String({ description: 'basic-auth user for the MLflow server, with MLFLOW_TRACKING_PASSWORD' }),
    ),
    MLFLOW_TRACKING_PASSWORD: Type.Optional(
      Type.String({ writeOnly: true, description: 'basic-auth password for the MLflow server, with MLFLOW_TRACKING_USERNAME' }),
    ),
    MODEL_POLL_INTERVAL_S: integer(
      0,
      86_400,
      30,
      "seconds between checks of MODEL_URI's alias; a new version is downloaded, verified and swapped in. 0: only at " +
        'start and on SIGHUP',
    ),
    MODEL_CACHE_DIR: Type.Optional(
      Type.String({
        description: 'where registry models are downloaded, one directory per version; unset: `$TMPDIR/heart-disease-models`',
      }),
    ),
    HOST: Type.String({ default: '0.0.0.0', description: 'listen address' }),
    PORT: integer(0, 65535, API_PORT, 'listen port'),
    LOG_LEVEL: Type.Enum(LOG_LEVELS, { default: 'info', description: 'pino log level; JSON lines carrying `requestId`' }),
    API_KEYS: Type.Array(Type.String({ minLength: 16, title: 'key' }), {
      default: [],
      writeOnly: true,
      description:
        'API keys; when set, `POST /predict`, `POST /feedback` and V2 `infer` need one as `Authorization: Bearer <key>` or `x-api-key` ' +
        '(constant-time compare); health, ready, metrics and docs stay open. None: no authentication',
    }),
    // Upper bounds keep one request's synchronous work (parsing the body, validating and explaining its rows) short
    // enough that probes and other requests are answered meanwhile (README, Reliability).
    MAX_BATCH_SIZE: integer(1, 10_000, 1000, 'most rows in one request (`/predict` and V2 `infer`)'),
    BODY_LIMIT_BYTES: integer(1024, 8_388_608, 1_048_576, 'largest request body in bytes (413 beyond)'),
    MAX_EXPLAIN_ROWS: integer(1, 10_000, 1000, 'most rows one `?explain=true` request may explain (400 beyond)'),
    MAX_ERROR_DETAILS: integer(1, 10_000, 100, 'most error details listed in one 400 answer; the rest are counted (`omittedDetails`)'),
    JSON_MAX_DEPTH: integer(4, 1000, 32, 'most nesting levels of a JSON body (400 beyond)'),
    HEADERS_TIMEOUT_MS: integer(100, 600_000, 10_000, "most time to receive a request's headers (408 and close)"),
    BODY_TIMEOUT_MS: integer(
      100,
      600_000,
      10_000,
      'a connection on which nothing arrives for this long while its request is read (a stalled body) is closed',
    ),
    KEEP_ALIVE_TIMEOUT_MS: integer(
      100,
      600_000,
      5000,
      'idle keep-alive connections close after this (announced as `Keep-Alive: timeout`); behind a proxy that keeps ' +
        'upstream connections longer (ingress-nginx: 60 s), set it above the proxy’s and SHUTDOWN_GRACE_MS above it',
    ),
    REQUEST_TIMEOUT_MS: integer(
      100,
      600_000,
      30_000,
      'the whole request, headers and body, must have arrived within this, however slowly it trickles (408 and close); ' +
        'HEADERS_TIMEOUT_MS is capped at it',
    ),
    SHUTDOWN_GRACE_MS: integer(100, 600_000, 10_000, 'after SIGTERM: most time to finish in-flight requests, else exit 1'),
    SHUTDOWN_DELAY_MS: integer(
      0,
      60_000,
      0,
      'after SIGTERM: keep serving (`/ready` answers 503, `Connection: close`) this long before closing the listener, ' +
        'so load balancers notice; less than SHUTDOWN_GRACE_MS',
    ),
    DRIFT_WINDOW_SIZE: integer(10, 100_000, 500, 'recent rows kept for the drift statistics'),
    RATE_LIMIT_MAX: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'requests per minute per client IP (429 beyond); unset: no rate limit' }),
    ),
    LOG_PATIENT_DATA: Type.Boolean({
      default: false,
      description: '`true` logs validated patient rows at debug level; otherwise no body or credential is ever logged',
    }),
    PREDICTION_LOG: Type.Enum(['on', 'off'], {
      default: 'on',
      description:
        'record every prediction (id, inputs as received and as scored, imputed features, model version, probability, ' +
        'label, time) for `POST /feedback` and `GET /performance`; `off`: no log, no `predictionId`, those routes answer 503',
    }),
    PREDICTION_LOG_PATH: Type.String({
      default: DEFAULT_PREDICTION_LOG_PATH,
      description: 'SQLite file of the prediction log (created with its directory) when DATABASE_URL is unset',
    }),
    DATABASE_URL: Type.Optional(
      Type.String({
        pattern: '^postgres(ql)?://',
        writeOnly: true,
        examples: ['postgres://user:password@db:5432/heart_disease'],
        description: 'PostgreSQL for the prediction log instead of SQLite (PREDICTION_LOG_PATH); the schema is created on start',
      }),
    ),
    PREDICTION_LOG_RETENTION_DAYS: integer(
      0,
      36_500,
      365,
      'predictions older than this many days are deleted (at start and hourly), labelled or not; 0: kept forever',
    ),
    PREDICTION_LOG_FLUSH_MS: integer(1, 60_000, 100, 'logged predictions are written at least this often (also on drain and reload)'),
    PREDICTION_LOG_BATCH_ROWS: integer(1, 100_000, 1000, 'logged predictions are written as soon as this many are waiting'),
    PREDICTION_LOG_MAX_QUEUED_ROWS: integer(
      1000,
      10_000_000,
      1_000_000,
      'most predictions held while the store fails; beyond, the oldest are dropped (counted in /metrics)',
    ),
    PERFORMANCE_WINDOW_COUNT: integer(10, 1_000_000, 500, '`GET /performance`: the most recent labelled predictions per model version'),
    PERFORMANCE_WINDOW_DAYS: integer(
      1,
      3650,
      30,
      '`GET /performance`: the predictions whose outcome was observed in the last this many days',
    ),
    PERFORMANCE_MIN_COUNT: integer(
      2,
      1_000_000,
      50,
      '`GET /performance`: fewer labelled predictions than this in a window give no metrics, only the count',
    ),
    UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: integer(
      0,
      60_000,
      1000,
      'event-loop delay above which requests get 503 + `Retry-After` (probes and `/metrics` are never shed); 0: off. ' +
        'A stall longer than the 1 s sampling interval reads as an infinite delay, whatever this limit',
    ),
    UNDER_PRESSURE_MAX_EVENT_LOOP_UTILIZATION: Type.Optional(
      Type.Number({
        minimum: 0.5,
        maximum: 1,
        description:
          'event-loop utilisation above which requests get 503; unset: off, because a busy server at full throughput ' +
          'runs near 100 % without queueing (the delay is the overload signal)',
      }),
    ),
    UNDER_PRESSURE_RETRY_AFTER_S: integer(1, 3600, 10, '`Retry-After` seconds sent with a 503 when shedding load'),
  },
  { additionalProperties: false },
);

export type ApiEnv = Static<typeof API_ENV>;

/** The validated variables in the shape the app uses. */
function toApiConfig(env: ApiEnv) {
  return {
    modelDir: env.MODEL_DIR,
    /** null: serve modelDir. */
    modelUri: env.MODEL_URI ?? null,
    mlflow: {
      trackingUri: env.MLFLOW_TRACKING_URI ?? null,
      token: env.MLFLOW_TRACKING_TOKEN,
      username: env.MLFLOW_TRACKING_USERNAME,
      password: env.MLFLOW_TRACKING_PASSWORD,
    },
    modelPollIntervalMs: env.MODEL_POLL_INTERVAL_S * 1000,
    /** null: a directory under the OS temp dir. */
    modelCacheDir: env.MODEL_CACHE_DIR ?? null,
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    /** Empty: no authentication on /predict and /v2/.../infer. */
    apiKeys: env.API_KEYS,
    maxBatchSize: env.MAX_BATCH_SIZE,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    /** Most rows one ?explain=true request may explain. */
    maxExplainRows: env.MAX_EXPLAIN_ROWS,
    /** Most error details listed in one 400 answer; the rest are counted. */
    maxErrorDetails: env.MAX_ERROR_DETAILS,
    /** Most nesting levels of a JSON body. */
    jsonMaxDepth: env.JSON_MAX_DEPTH,
    timeouts: {
      headersMs: env.HEADERS_TIMEOUT_MS,
      bodyMs: env.BODY_TIMEOUT_MS,
      keepAliveMs: env.KEEP_ALIVE_TIMEOUT_MS,
      requestMs: env.REQUEST_TIMEOUT_MS,
    },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    /** Time between SIGTERM (/ready → 503) and closing the listener, for load balancers to notice. */
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    driftWindowSize: env.DRIFT_WINDOW_SIZE,
    /** Requests per minute per client IP; null = rate limiting off. */
    rateLimitMax: env.RATE_LIMIT_MAX ?? null,
    logPatientData: env.LOG_PATIENT_DATA,
    /** The prediction log and live performance; `enabled` false: no log, /feedback and /performance answer 503. */
    predictionLog: {
      enabled: env.PREDICTION_LOG === 'on',
      sqlitePath: env.PREDICTION_LOG_PATH,
      /** null: SQLite at sqlitePath. */
      databaseUrl: env.DATABASE_URL ?? null,
      /** 0: kept forever. */
      retentionDays: env.PREDICTION_LOG_RETENTION_DAYS,
      flushMs: env.PREDICTION_LOG_FLUSH_MS,
      batchRows: env.PREDICTION_LOG_BATCH_ROWS,
      maxQueuedRows: env.PREDICTION_LOG_MAX_QUEUED_ROWS,
    },
    performance: {
      windowCount: env.PERFORMANCE_WINDOW_COUNT,
      windowDays: env.PERFORMANCE_WINDOW_DAYS,
      minCount: env.PERFORMANCE_MIN_COUNT,
    },
    underPressure: {
      maxEventLoopDelayMs: env.UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
      /** null = off: a busy server at full throughput runs near 100 % utilisation without queueing (see README). */
      maxEventLoopUtilization: env.UNDER_PRESSURE_MAX_EVENT_LOOP_UTILIZATION ?? null,
      retryAfterSeconds: env.UNDER_PRESSURE_RETRY_AFTER_S,
    },
  };
}

export type ApiConfig = ReturnType<typeof toApiConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Rules between variables, which a per-variable schema cannot state. */
function crossFieldProblems(env: ApiEnv): string[] {
  const problems: string[] = [];
  if (env.MODEL_URI !== undefined && env.MLFLOW_TRACKING_URI === undefined) {
    problems.push('MODEL_URI needs MLFLOW_TRACKING_URI: the address of the MLflow server holding the model');
  }
  if (env.MLFLOW_TRACKING_URI !== undefined) {
    try {
      normaliseTrackingUri(env.MLFLOW_TRACKING_URI);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if ((env.MLFLOW_TRACKING_USERNAME === undefined) !== (env.MLFLOW_TRACKING_PASSWORD === undefined)) {
    problems.push('MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD go together: set both or neither');
  }
  if (env.SHUTDOWN_DELAY_MS >= env.SHUTDOWN_GRACE_MS) {
    problems.push(`SHUTDOWN_DELAY_MS (${env.SHUTDOWN_DELAY_MS}) must be less than SHUTDOWN_GRACE_MS (${env.SHUTDOWN_GRACE_MS})`);
  }
  return problems;
}

/**
 * The configuration from an environment. Every bad variable gets its own line naming the variable, the rule and the
 * value received (never for API_KEYS), so an operator can fix all of them in one go. Blank counts as unset.
 */
export function loadConfig(env: Env = process.env): ApiConfig {
  const result = readEnv(API_ENV, env);
  if (!result.ok) throw new ConfigError(result.problems);
  const problems = crossFieldProblems(result.value);
  if (problems.length > 0) throw new ConfigError(problems);
  return toApiConfig(result.value);
}

/** Every variable with its meaning, rule and default, for the server's stderr next to a ConfigError. */
export function environmentHelp(): string {
  return settingsHelp(API_ENV, { name: (name) => name, source: ENV_SOURCE });
}

/** The table in src/api/README.md (npm run docs:config writes it; a test compares). */
export function environmentTable(): string {
  return settingsTable(API_ENV, { heading: 'Variable', name: (name) => `\`${name}\``, source: ENV_SOURCE });
}
