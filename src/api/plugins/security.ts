import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { ApiConfig } from '../config.js';

/**
 * Security headers, load shedding and optional rate limiting, from well-kept packages.
 * - helmet (the package itself, its middleware built once): strict CSP for our own page (scripts and styles only
 *   from this origin); the Swagger UI routes set their own CSP (swagger-ui `staticCSP`). No upgrade-insecure-requests:
 *   the API is served over plain HTTP behind ingress. @fastify/helmet is not used: it rebuilds helmet's middleware
 *   (re-parsing the CSP) on every request and adds two hooks to every route, the hot JSON routes included.
 * - under-pressure: when the event loop is saturated, answer 503 + Retry-After at once instead of queueing; the
 *   threshold (1 s event-loop delay by default) sits far above what the 50-connection benchmark produces. Utilisation
 *   is off by default: a server at full throughput is ~100 % utilised without queueing, so it is no overload signal.
 * - rate-limit: only when RATE_LIMIT_MAX is set (requests per minute per client IP).
 */
class OverloadedError extends Error {
  readonly statusCode = 503;
}

/**
 * Security headers of the JSON API routes (`config: { securityHeaders: 'json-api' }`) and of answers to unknown URLs,
 * fixed once. A JSON answer never needs scripts or framing, so the policy is the strictest one.
 */
export const JSON_API_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
} as const;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'json-api': the route answers JSON only and gets JSON_API_HEADERS; otherwise helmet's page headers. */
    securityHeaders?: 'json-api';
  }
}

/** helmet's headers for our page, the docs and the other routes: the middleware, built once. */
const pageHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  // Same-origin page and API; HSTS belongs to the TLS-terminating ingress, not to a plain-HTTP pod.
  strictTransportSecurity: false,
});

function pageSecurityHeaders(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  pageHeaders(request.raw as IncomingMessage, reply.raw as ServerResponse, (error?: unknown) => done(error as Error | undefined));
}

function jsonApiHeaders(_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  reply.headers(JSON_API_HEADERS);
  done();
}

const UNSHED_ROUTES = new Set(['/health', '/ready', '/metrics', '/v2/health/live', '/v2/health/ready']);

export default fp(
  async function security(app: FastifyInstance, config: ApiConfig) {
    // Each route gets its header hook first in its own onRequest list (register this before the routes): one
    // callback-style hook per request, the JSON routes' a fixed set of headers.
    app.addHook('onRoute', (route) => {
      const headers = route.config?.securityHeaders === 'json-api' ? jsonApiHeaders : pageSecurityHeaders;
      route.onRequest = [headers as onRequestHookHandler, ...[route.onRequest ?? []].flat()];
    });

    const retryAfter = config.underPressure.retryAfterSeconds;
    await app.register(underPressure, {
      // Probes and scrapes are never shed: a liveness probe failing under load would get the pod killed
      // exactly when it is busiest, and metrics are what shows the overload.
      pressureHandler: (request, reply, type, value) => {
        if (UNSHED_ROUTES.has(request.routeOptions.url ?? '')) return;
        reply.header('retry-after', retryAfter);
        // A rejected promise hands the error to the app's error handler (503 keeps its message).
        return Promise.reject(
          new OverloadedError(`server is overloaded (${type} ${Math.round(Number(value))}); retry after ${retryAfter} s`),
        );
      },
      maxEventLoopDelay: config.underPressure.maxEventLoopDelayMs,
      ...(config.underPressure.maxEventLoopUtilization !== null && {
        maxEventLoopUtilization: config.underPressure.maxEventLoopUtilization,
      }),
      retryAfter,
    });

    if (config.rateLimitMax !== null) {
      await app.register(rateLimit, { max: config.rateLimitMax, timeWindow: '1 minute' });
    }
  },
  { name: 'security' },
);
