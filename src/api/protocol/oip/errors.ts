/**
 * Errors of the Open Inference Protocol routes: an HTTP error status with body { "error": "<message>" }
 * (specification/protocol/inference_rest.md, "Error Response"). Validation details are the same as /predict's,
 * joined into the message.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { InvalidInputError } from '../../dataplane/refusals.js';
import { validationErrorBody, type ValidationIssue } from '../../schemas/errors.js';

/** A protocol-level problem (unknown model, wrong tensor) with its HTTP status. */
export class V2Error extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Encapsulated error handler: only the V2 routes answer errors in the protocol's shape. */
export function setV2ErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof InvalidInputError) return reply.code(400).send({ error: error.message });
    if (error.validation) {
      const body = validationErrorBody(error.validation as ValidationIssue[], error.validationContext ?? 'body');
      return reply.code(400).send({ error: body.message });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500 && status !== 503) {
      request.log.error({ err: error }, 'V2 request failed');
      return reply.code(500).send({ error: `internal error (request id ${request.id})` });
    }
    return reply.code(status).send({ error: error.message });
  });
}
