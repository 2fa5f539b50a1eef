import type { ServerOptions } from 'node:http';
import type { ApiConfig } from './config.js';

export interface ServerTimeoutOptions {
  http: ServerOptions;
  requestTimeout: number;
  connectionTimeout: number;
  keepAliveTimeout: number;
}

/**
 * Fastify/Node server options for the four timeouts (off, or 72 s for keep-alive, in Fastify by default), so a client
 * that sends slowly or stalls cannot hold a connection for ever. All are Node's own, enforced outside the request
 * path (no per-request timer or AbortController):
 * - headers: headersTimeout, the headers must arrive within it (408 and close);
 * - body: the socket's inactivity timeout (connectionTimeout): a body that stops arriving is closed after it;
 * - idle keep-alive: keepAliveTimeout, announced to clients as `Keep-Alive: timeout=N`;
 * - whole request: requestTimeout, headers and body must have arrived within it (408 and close), however slowly
 *   they trickle in.
 * Node checks headers and whole-request limits every connectionsCheckingInterval (30 s by default): a tenth of the
 * shorter one here, so a stalled request is answered close to its limit. The server's own work per request is
 * bounded by the request limits (README, Reliability), far below the body timeout.
 */
export function serverTimeouts(timeouts: ApiConfig['timeouts']): ServerTimeoutOptions {
  const checkEvery = Math.max(20, Math.min(1000, Math.floor(Math.min(timeouts.headersMs, timeouts.requestMs) / 10)));
  return {
    // Node refuses a headers timeout above the request timeout: the headers are part of the request.
    http: {
      headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs),
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: checkEvery,
    },
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.bodyMs,
    keepAliveTimeout: timeouts.keepAliveMs,
  };
}
