/**
 * API configuration: every setting comes from an environment variable, validated once at start-up.
 * Each bad variable gets its own line naming the variable, the rule and the value received, so an operator can fix
 * all of them in one go. Pure: `loadConfig(env)` reads only the object it is given.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ApiConfig {
  modelDir: string;
  host: string;
  port: number;
  logLevel: LogLevel;
  /** Empty: no authentication on /predict and /v2/.../infer. */
  apiKeys: string[];
  maxBatchSize: number;
  bodyLimitBytes: number;
  shutdownGraceMs: number;
  /** Time between SIGTERM (/ready → 503) and closing the listener, for load balancers to notice. */
  shutdownDelayMs: number;
  driftWindowSize: number;
  /** Requests per minute per client IP; null = rate limiting off. */
  rateLimitMax: number | null;
  logPatientData: boolean;
  underPressure: {
    maxEventLoopDelayMs: number;
    /** null = off: a busy server at full throughput runs near 100 % utilisation without queueing (see README). */
    maxEventLoopUtilization: number | null;
    retryAfterSeconds: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Documented variables: name → what it is and its default (used by the README and the error messages). */
export const ENV_VARIABLES: Record<string, string> = {
  MODEL_DIR: "directory with model.onnx and model.json (default 'artifacts')",
  HOST: "listen address (default '0.0.0.0')",
  PORT: 'listen port, 0-65535 (default 8000)',
  LOG_LEVEL: `one of ${LOG_LEVELS.join(', ')} (default 'info')`,
  API_KEYS: 'comma-separated API keys; when set, /predict and /v2/models/*/infer need one (default: none, open)',
  MAX_BATCH_SIZE: 'most rows in one request, 1-100000 (default 1000)',
  BODY_LIMIT_BYTES: 'largest request body in bytes, 1024-104857600 (default 1048576)',
  SHUTDOWN_GRACE_MS: 'most time to finish in-flight requests after SIGTERM, 100-600000 (default 10000)',
  SHUTDOWN_DELAY_MS: 'time between SIGTERM (/ready answers 503) and closing the listener, 0-60000 (default 0)',
  DRIFT_WINDOW_SIZE: 'recent rows kept for drift statistics, 10-100000 (default 500)',
  RATE_LIMIT_MAX: 'requests per minute per client IP, 1-1000000 (default: rate limiting off)',
  LOG_PATIENT_DATA: "'true' logs validated patient rows at debug level (default 'false')",
  UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: 'event-loop delay that triggers 503 load shedding, 10-60000 (default 1000)',
  UNDER_PRESSURE_MAX_EVENT_LOOP_UTILIZATION: 'event-loop utilisation that triggers 503, 0.5-1 (default: off; delay is the overload signal)',
  UNDER_PRESSURE_RETRY_AFTER_S: 'Retry-After seconds sent with a 503 when shedding load, 1-3600 (default 10)',
};

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  number(name: string, fallback: number, min: number, max: number, integer = true): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      this.problems.push(`${name}: must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${raw}'`);
      return fallback;
    }
    return value;
  }

  optionalFraction(name: string, min: number, max: number): number | null {
    if (this.raw(name) === undefined) return null;
    return this.number(name, min, min, max, false);
  }

  optionalNumber(name: string, min: number, max: number): number | null {
    if (this.raw(name) === undefined) return null;
    return this.number(name, min, min, max);
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase();
    if (['true', '1', 'yes'].includes(lower)) return true;
    if (['false', '0', 'no'].includes(lower)) return false;
    this.problems.push(`${name}: must be true or false, got '${raw}'`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name}: must be one of ${allowed.join(', ')}, got '${raw}'`);
    return fallback;
  }

  list(name: string): string[] {
    const raw = this.raw(name);
    if (raw === undefined) return [];
    const items = raw.split(',').map((s) => s.trim());
    if (items.some((s) => s === '')) this.problems.push(`${name}: comma-separated list has an empty entry`);
    const short = items.filter((s) => s !== '' && s.length < 16);
    if (short.length > 0) this.problems.push(`${name}: every key must be at least 16 characters (${short.length} too short)`);
    return items.filter((s) => s !== '');
  }
}

export function loadConfig(env: Env = process.env): ApiConfig {
  const read = new Reader(env);
  const config: ApiConfig = {
    modelDir: read.string('MODEL_DIR', 'artifacts'),
    host: read.string('HOST', '0.0.0.0'),
    port: read.number('PORT', 8000, 0, 65535),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    apiKeys: read.list('API_KEYS'),
    maxBatchSize: read.number('MAX_BATCH_SIZE', 1000, 1, 100_000),
    bodyLimitBytes: read.number('BODY_LIMIT_BYTES', 1_048_576, 1024, 104_857_600),
    shutdownGraceMs: read.number('SHUTDOWN_GRACE_MS', 10_000, 100, 600_000),
    shutdownDelayMs: read.number('SHUTDOWN_DELAY_MS', 0, 0, 60_000),
    driftWindowSize: read.number('DRIFT_WINDOW_SIZE', 500, 10, 100_000),
    rateLimitMax: read.optionalNumber('RATE_LIMIT_MAX', 1, 1_000_000),
    logPatientData: read.boolean('LOG_PATIENT_DATA', false),
    underPressure: {
      maxEventLoopDelayMs: read.number('UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS', 1000, 10, 60_000),
      maxEventLoopUtilization: read.optionalFraction('UNDER_PRESSURE_MAX_EVENT_LOOP_UTILIZATION', 0.5, 1),
      retryAfterSeconds: read.number('UNDER_PRESSURE_RETRY_AFTER_S', 10, 1, 3600),
    },
  };
  if (config.shutdownDelayMs >= config.shutdownGraceMs) {
    read.problems.push(`SHUTDOWN_DELAY_MS (${config.shutdownDelayMs}) must be less than SHUTDOWN_GRACE_MS (${config.shutdownGraceMs})`);
  }
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}
