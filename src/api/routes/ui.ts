import type { FastifyInstance } from 'fastify';
import { FEATURES } from '../../features/feature-schema.js';
import { APP_CSS, APP_JS } from '../ui/assets.js';
import { renderPage } from '../ui/page.js';

/** GET / (the prediction page) and its two assets. Hidden from the OpenAPI document: they are not API. */
export default async function uiRoutes(app: FastifyInstance) {
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const model = app.modelService.current;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(renderPage({ features: FEATURES, modelVersion: model?.version ?? null, threshold: model?.card.threshold ?? null }));
  });
  app.get('/ui/app.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(APP_JS),
  );
  app.get('/ui/app.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(APP_CSS),
  );
}
