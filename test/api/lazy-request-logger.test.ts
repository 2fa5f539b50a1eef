/**
 * request.log made on first use: with a real pino logger writing to a stream, a request's lines carry its bindings
 * and options exactly as an eager child's would, and levels below the logger's write nothing.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyRequestLogger } from '../../src/api/lazy-request-logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('lazy request logger', () => {
  it('writes what an eager child writes, with the request bindings', () => {
    const { logger, lines } = capture('info');
    const log = lazyRequestLogger.call(undefined as never, logger, { requestId: 'r-1' }, {}, undefined as never);
    log.info({ code: 'X' }, 'client error');
    log.debug('not written at info');
    log.child({ part: 'db' }).warn('nested');
    expect(lines).toMatchObject([
      { level: 30, requestId: 'r-1', code: 'X', msg: 'client error' },
      { level: 40, requestId: 'r-1', part: 'db', msg: 'nested' },
    ]);
    expect(log.level).toBe('info');
  });

  it('writes nothing below the level, and follows a level given to the child', () => {
    const { logger, lines } = capture('warn');
    const quiet = lazyRequestLogger.call(undefined as never, logger, { requestId: 'r-2' }, {}, undefined as never);
    quiet.info('dropped');
    quiet.error('kept');
    const verbose = lazyRequestLogger.call(undefined as never, logger, { requestId: 'r-3' }, { level: 'debug' }, undefined as never);
    verbose.debug('route logs at debug');
    expect(lines.map((l) => [l.requestId, l.msg])).toEqual([
      ['r-2', 'kept'],
      ['r-3', 'route logs at debug'],
    ]);
    expect(verbose.level).toBe('debug');
  });
});
