import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/** A route path pattern ('/v2/models/:name/ready', '/docs/*') as a matcher of concrete paths. */
function matcher(url: string): RegExp {
  const source = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/** Whether a path is one of the Open Inference Protocol's (errors there have the protocol's { error } shape). */
export const isV2Path = (path: string) => path === '/v2' || path.startsWith('/v2/');

/**
 * A known path asked with a method it does not serve gets 405 Method Not Allowed with an `Allow` header listing the
 * methods it does serve (RFC 9110 15.5.6), instead of 404. Decided at onRequest, before any body is read. Register
 * before the routes: it learns them from onRoute.
 */
export default fp(
  async function methodNotAllowed(app: FastifyInstance) {
    const byPattern = new Map<string, { match: RegExp; methods: Set<string> }>();
    app.addHook('onRoute', (route) => {
      const entry = byPattern.get(route.url) ?? { match: matcher(route.url), methods: new Set<string>() };
      for (const method of [route.method].flat()) entry.methods.add(method);
      if (entry.methods.has('GET')) entry.methods.add('HEAD');
      byPattern.set(route.url, entry);
    });

    // Callback-style hook: every request passes here, so no promise on the hot path.
    app.addHook('onRequest', (request, reply, done) => {
      if (!request.is404) return done();
      const path = request.url.split('?')[0]!;
      const allowed = new Set<string>();
      for (const { match, methods } of byPattern.values()) if (match.test(path)) for (const m of methods) allowed.add(m);
      if (allowed.size === 0 || allowed.has(request.method)) return done();
      const allow = [...allowed].sort().join(', ');
      const message = `${request.method} is not allowed on ${path}; allowed: ${allow}`;
      reply.code(405).header('allow', allow).header('content-type', 'application/json; charset=utf-8');
      void reply.send(isV2Path(path) ? { error: message } : { error: 'Method Not Allowed', message, details: [] });
    });
  },
  { name: 'method-not-allowed' },
);
