import type { FastifyInstance } from 'fastify';

const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string' }, modelVersion: { type: 'string' }, reason: { type: 'string' } },
} as const;

/**
 * Liveness (process answers) and readiness (model loaded, not draining, start-up settled), for Kubernetes probes.
 * Start-up work (module loading, JIT, model load) can stall the event loop long enough that load shedding's first
 * sample reads as overload; ready only once a sample is clean, so traffic never meets a 503 right after ready.
 * After that, load does not touch readiness: shedding answers 503 per request instead of emptying the Service.
 */
export default async function healthRoutes(app: FastifyInstance) {
  let settled = false;
  const startupSettled = () => {
    if (!settled) settled = typeof app.isUnderPressure !== 'function' || !app.isUnderPressure();
    return settled;
  };
  app.get(
    '/health',
    { schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: statusSchema } } },
    async () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: model loaded and not shutting down',
        response: { 200: statusSchema, 503: statusSchema },
      },
    },
    async (_request, reply) => {
      const model = app.modelService.current;
      if (app.lifecycle.draining) return reply.code(503).send({ status: 'not ready', reason: 'shutting down' });
      if (!model) return reply.code(503).send({ status: 'not ready', reason: 'model not loaded' });
      if (!startupSettled()) return reply.code(503).send({ status: 'not ready', reason: 'start-up still settling (event loop delayed)' });
      return { status: 'ready', modelVersion: model.version };
    },
  );
}
