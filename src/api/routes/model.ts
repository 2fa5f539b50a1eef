import type { FastifyInstance } from 'fastify';
import { riskBands } from '../model/risk.js';

/**
 * Model metadata from model.json: version, metrics, schema; the bulky parts (reference bins, explainer) are left out.
 * `source` says where the served files came from (MODEL_DIR, or registry name/version/alias/run), when the source was
 * last checked and its last failure (the model kept serving then).
 */
export default async function modelRoutes(app: FastifyInstance) {
  app.get(
    '/model',
    {
      schema: {
        tags: ['model'],
        summary: 'Metadata of the model being served (model.json: version, metrics, feature schema) and where it came from',
        response: { 200: { type: 'object', additionalProperties: true }, 503: { $ref: 'Error#' } },
      },
    },
    async (_request, reply) => {
      const model = app.modelService.current;
      if (!model) return reply.code(503).send({ error: 'Service Unavailable', message: 'no model loaded', details: [] });
      const { reference: _reference, explainer, split, ...card } = model.card;
      return {
        ...card,
        loadedAt: model.loadedAt,
        source: { ...model.origin, checkedAt: app.modelUpdater.lastCheckAt, lastFailure: app.modelUpdater.lastFailure },
        explainer: { kind: explainer?.kind ?? 'occlusion' },
        split,
        riskBands: riskBands(card.threshold),
      };
    },
  );
}
