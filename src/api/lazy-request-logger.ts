/**
 * `request.log`, made when a request first logs. Fastify gives every request a child of the app's logger (bound to
 * its request id); pino builds that child eagerly (~1-2 µs of a single-row /predict's ~65 µs), yet at the default
 * level a request that succeeds never logs. This factory (Fastify's documented `childLoggerFactory`) returns a
 * stand-in whose methods check the level first and build the real child, with the same bindings and options, on
 * the first call that writes.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, FastifyChildLoggerFactory } from 'fastify/types/logger.js';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The app logger as pino provides it: it can say whether a level is written. */
type ParentLogger = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };

class LazyRequestLogger implements FastifyBaseLogger {
  private real: FastifyBaseLogger | null = null;

  constructor(
    private readonly parent: ParentLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private child_(): FastifyBaseLogger {
    return (this.real ??= this.parent.child(this.bindings, this.options));
  }

  /** Whether `level` is written: a child with its own level decides itself, else the parent's level does. */
  private writes(level: Level): boolean {
    if (this.real || this.options.level !== undefined || typeof this.parent.isLevelEnabled !== 'function') return true;
    return this.parent.isLevelEnabled(level);
  }

  get level(): string {
    return this.real?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.child_().level = level;
  }

  // Methods on the prototype (no closures per request).
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.child_().child(bindings, options);
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.writes(level)) return;
    (this.child_()[level] as (...a: unknown[]) => void)(...args);
  }
}

export const lazyRequestLogger: FastifyChildLoggerFactory = function (logger, bindings, options) {
  return new LazyRequestLogger(logger as ParentLogger, bindings, options);
};
