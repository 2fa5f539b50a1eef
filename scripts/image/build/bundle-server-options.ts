/**
 * Packages the server bundle leaves to node_modules: onnxruntime-node (native addon) and the swagger plugins, which
 * read files relative to their own install directory (Swagger UI's static assets, their package.json).
 */
export const EXTERNAL_PACKAGES = ['onnxruntime-node', '@fastify/swagger', '@fastify/swagger-ui'] as const;
