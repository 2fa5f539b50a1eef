import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hooks of protected routes: the key check (callback style), or none when no API keys are configured. */
    requireApiKey: onRequestHookHandler[];
  }
}

/** OpenAPI security requirement of protected routes: either scheme (both defined in plugins/swagger.ts). */
export const API_KEY_SECURITY: { [scheme: string]: string[] }[] = [{ bearerAuth: [] }, { apiKeyHeader: [] }];

const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest();

/** The key a client sent: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (match) return match[1]!;
  }
  const header = headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : null;
}

/**
 * Constant-time check: both sides are hashed to 32 bytes (so lengths never leak) and every configured key is
 * compared, without stopping at the first match.
 */
export function keyMatches(presented: string, allowedDigests: readonly Buffer[]): boolean {
  const candidate = digest(presented);
  let match = false;
  for (const allowed of allowedDigests) match = timingSafeEqual(candidate, allowed) || match;
  return match;
}

class UnauthorizedError extends Error {
  readonly statusCode = 401;
  readonly code = 'HD_UNAUTHORIZED';
}

export default fp(
  async function auth(app: FastifyInstance, opts: { apiKeys: readonly string[] }) {
    const digests = opts.apiKeys.map(digest);
    const checkApiKey = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const key = presentedKey(request.headers);
      if (key !== null && keyMatches(key, digests)) return done();
      reply.header('www-authenticate', 'Bearer');
      done(
        new UnauthorizedError(key === null ? 'missing API key: send Authorization: Bearer <key> or x-api-key: <key>' : 'invalid API key'),
      );
    };
    app.decorate('requireApiKey', digests.length === 0 ? [] : [checkApiKey as onRequestHookHandler]);
  },
  { name: 'auth' },
);
