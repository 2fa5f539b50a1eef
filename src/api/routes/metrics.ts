import type { FastifyInstance } from 'fastify';

/** Prometheus text exposition of the app's registry (open, like health: scrapers carry no API key). */
export default async function metricsRoutes(app: FastifyInstance) {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Prometheus metrics',
        response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (_request, reply) => {
      const registry = app.metrics.registry;
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    },
  );
}
