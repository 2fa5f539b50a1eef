/**
 * Packages the server bundle leaves to node_modules: onnxruntime-node (native addon) and the swagger plugins, which
 * read files relative to their own install directory (Swagger UI's static assets, their package.json).
 */
export const EXTERNAL_PACKAGES = ['onnxruntime-node', '@fastify/swagger', '@fastify/swagger-ui'] as const;

/**
 * Packages the bundle names at run time that are never installed: `pg` requires `pg-native` inside a try/catch, only
 * when asked for its native client (this project uses the pure-JavaScript one). Left out of the image's packages.
 */
export const ABSENT_OPTIONAL_PACKAGES: readonly string[] = ['pg-native'];
