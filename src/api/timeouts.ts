import type { ServerOptions } from 'node:http';
import type { ApiConfig } from './config.js';

export interface ServerTimeoutOptions {
  http: ServerOptions;
  requestTimeout: number;
  keepAliveTimeout: number;
  handlerTimeout: number;
}

/**
 * Fastify/Node server options for the four timeouts (all 0, i.e. off, in Fastify by default), so a client that sends
 * headers or a body slowly, or stalls, cannot hold a connection for ever:
 * - headers: Node's headersTimeout (408 and close);
 * - body: Node's requestTimeout, the whole request received (408 and close);
 * - idle keep-alive: keepAliveTimeout (announced to clients as `Keep-Alive: timeout=N`);
 * - whole request: Fastify's handlerTimeout, routing to answer (the error handlers answer 408 while the body is still
 *   arriving, else 503).
 * Node checks the first two every connectionsCheckingInterval (30 s by default): a tenth of the shorter one here, so a
 * stalled request is answered close to its limit.
 */
export function serverTimeouts(timeouts: ApiConfig['timeouts']): ServerTimeoutOptions {
  const checkEvery = Math.max(20, Math.min(1000, Math.floor(Math.min(timeouts.headersMs, timeouts.bodyMs) / 10)));
  return {
    // Node refuses a headers timeout above the request timeout: the headers are part of the request.
    http: {
      headersTimeout: Math.min(timeouts.headersMs, timeouts.bodyMs),
      requestTimeout: timeouts.bodyMs,
      connectionsCheckingInterval: checkEvery,
    },
    requestTimeout: timeouts.bodyMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    handlerTimeout: timeouts.requestMs,
  };
}

/** Fastify's code for a request that outlived handlerTimeout. */
export const HANDLER_TIMEOUT = 'FST_ERR_HANDLER_TIMEOUT';

/**
 * How to answer a request that outlived REQUEST_TIMEOUT_MS: the client's fault while its body is still arriving (408,
 * and the connection closes, since the rest of the body cannot be read as a next request), the server's otherwise
 * (503, retry later).
 */
export function handlerTimeoutAnswer(bodyComplete: boolean): { status: 408 | 503; message: string } {
  return bodyComplete
    ? { status: 503, message: 'the answer took longer than REQUEST_TIMEOUT_MS; retry later' }
    : { status: 408, message: 'the request body did not arrive within REQUEST_TIMEOUT_MS' };
}
