import type { FastifyInstance } from 'fastify';

/** Prometheus text exposition of the app's registry (open, like health: scrapers carry no API key). */
export default async function metricsRoutes(app: FastifyInstance) {
  app.get(
    '/metrics',
    { schema: { tags: ['monitoring'], summary: 'Prometheus metrics', produces: ['text/plain'] } },
    async (_request, reply) => {
      const registry = app.metrics.registry;
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    },
  );
}
