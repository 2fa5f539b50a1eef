import type { FastifyInstance } from 'fastify';

const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string' }, modelVersion: { type: 'string' }, reason: { type: 'string' } },
} as const;

/** Liveness (process answers) and readiness (model loaded and not draining), for Kubernetes probes. */
export default async function healthRoutes(app: FastifyInstance) {
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
      return { status: 'ready', modelVersion: model.version };
    },
  );
}
