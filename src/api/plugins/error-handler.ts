import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInputError } from '../dataplane/refusals.js';
import { STATUS_CODES } from 'node:http';
import { BodyParseError } from './json-parser.js';
import { isV2Path } from './method-not-allowed.js';

/** The Open Inference Protocol's error object. */
export const V2_ERROR_SCHEMA = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } } as const;
import { invalidInputBody, requestErrorBody, validationErrorBody, type ValidationIssue } from '../schemas/errors.js';
import { JSON_API_HEADERS } from './security.js';

/**
 * One error format for the whole API: { error, message, details }. Client mistakes (validation, bad JSON, wrong
 * content type, oversized body, auth, rate limit) keep their 4xx status with a message naming the field and rule;
 * a genuine server fault is logged with its stack and answered with a generic 500 that carries the request id only.
 */
export default fp(
  async function errorHandler(app: FastifyInstance, opts: { bodyLimit: number }) {
    // The published contract names every answer this handler can give: client errors (4xx) and overload or timeout
    // (503), in the route family's error shape, unless a route declares its own.
    app.addHook('onRoute', (route) => {
      const schema = route.schema as { hide?: boolean; response?: Record<string, unknown> } | undefined;
      if (!schema?.response || schema.hide) return;
      const error = isV2Path(route.url) ? V2_ERROR_SCHEMA : { $ref: 'Error#' };
      schema.response['4xx'] ??= error;
      schema.response[503] ??= error;
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof InvalidInputError) return reply.code(400).send(invalidInputBody(error));
      if (error instanceof BodyParseError)
        return reply.code(400).send({ error: 'Bad Request', message: error.message, details: [error.detail] });
      if (error.validation) {
        return reply.code(400).send(validationErrorBody(error.validation as ValidationIssue[], error.validationContext ?? 'body'));
      }
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        request.log.info({ code: error.code, statusCode: status }, 'client error');
        return reply.code(status).send(requestErrorBody(error.code, status, error.message, opts.bodyLimit));
      }
      if (status === 503) {
        return reply.code(503).send({ error: 'Service Unavailable', message: error.message, details: [] });
      }
      request.log.error({ err: error }, 'request failed');
      return reply
        .code(500)
        .send({ error: 'Internal Server Error', message: `internal error (request id ${request.id}); see the server log`, details: [] });
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0]!;
      const message = `no route ${request.method} ${path}`;
      // An unknown URL is answered as the JSON API answers (no route, so no route's header hook ran).
      reply.headers(JSON_API_HEADERS);
      return reply.code(404).send(isV2Path(path) ? { error: message } : { error: 'Not Found', message, details: [] });
    });
  },
  { name: 'error-handler' },
);

/**
 * Fastify's `frameworkErrors` option: errors raised before routing (a malformed URL such as '/%zz') answered in the
 * API's error shapes instead of Fastify's own body.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0]!;
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const message = error.code === 'FST_ERR_BAD_URL' ? `the URL path is not valid (malformed percent-encoding?)` : error.message;
  reply.header('x-request-id', request.id);
  void reply.code(status).send(isV2Path(path) ? { error: message } : { error: STATUS_CODES[status], message, details: [] });
}
