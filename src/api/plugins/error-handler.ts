import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { InvalidInputError } from '../dataplane/refusals.js';
import { invalidInputBody, requestErrorBody, validationErrorBody, type ValidationIssue } from '../schemas/errors.js';

/**
 * One error format for the whole API: { error, message, details }. Client mistakes (validation, bad JSON, wrong
 * content type, oversized body, auth, rate limit) keep their 4xx status with a message naming the field and rule;
 * a genuine server fault is logged with its stack and answered with a generic 500 that carries the request id only.
 */
export default fp(
  async function errorHandler(app: FastifyInstance, opts: { bodyLimit: number }) {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof InvalidInputError) return reply.code(400).send(invalidInputBody(error));
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

    app.setNotFoundHandler((request, reply) =>
      reply.code(404).send({ error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: [] }),
    );
  },
  { name: 'error-handler' },
);
