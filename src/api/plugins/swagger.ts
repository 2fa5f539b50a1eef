import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * OpenAPI 3.1 document generated from the route schemas (the same ones that validate requests), served at
 * /docs/json, with the interactive Swagger UI at /docs. OpenAPI 3.1 because the generated schemas use JSON Schema
 * type arrays (`["number", "null"]`) and if/then/else, which 3.0 cannot express.
 */
export default fp(
  async function docs(app: FastifyInstance, opts: { version: string }) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Heart disease risk API',
          version: opts.version,
          description:
            'Predicts heart disease from the 13 UCI features with an ONNX model. Also speaks the Open Inference Protocol (KServe V2) under /v2.',
        },
        tags: [
          { name: 'prediction', description: 'Predictions and explanations' },
          { name: 'model', description: 'Model metadata' },
          { name: 'health', description: 'Liveness and readiness' },
          { name: 'monitoring', description: 'Metrics and drift' },
          { name: 'kserve-v2', description: 'Open Inference Protocol (KServe V2) REST' },
        ],
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key as a bearer token (when API_KEYS is set)' },
            apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'API key header (when API_KEYS is set)' },
          },
        },
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      // Plain HTTP behind the ingress: no upgrade-insecure-requests. Swagger UI (React) sets inline styles at run
      // time, which hashes cannot cover (and hashes would disable 'unsafe-inline'); scripts stay hash-pinned.
      transformStaticCSP: (header) =>
        header.replace(/\s*upgrade-insecure-requests;?/, '').replace(/style-src [^;]*;/, "style-src 'self' 'unsafe-inline';"),
    });
  },
  { name: 'docs' },
);
