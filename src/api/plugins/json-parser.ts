import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

class BodyParseError extends Error {
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** First own key that could poison a prototype if the object were ever merged (`__proto__`, `constructor.prototype`). */
export function poisonedKey(value: unknown, path = ''): string | null {
  if (typeof value !== 'object' || value === null) return null;
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (key === '__proto__') return `${path}${key}`;
    if (key === 'constructor' && typeof child === 'object' && child !== null && 'prototype' in child) return `${path}constructor.prototype`;
    const found = poisonedKey(child, `${path}${key}.`);
    if (found) return found;
  }
  return null;
}

/** Parse a JSON body, or a BodyParseError (400) saying what is wrong. */
export function parseJsonBody(text: string): { value: unknown } | { error: BodyParseError } {
  if (text.length === 0) return { error: new BodyParseError('request body is empty; send a JSON object', 'FST_ERR_CTP_EMPTY_JSON_BODY') };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { error: new BodyParseError(`request body is not valid JSON: ${(error as Error).message}`, 'HD_INVALID_JSON') };
  }
  if (text.includes('__proto__') || text.includes('constructor')) {
    const key = poisonedKey(parsed);
    if (key) return { error: new BodyParseError(`request body contains the forbidden key '${key}'`, 'HD_FORBIDDEN_KEY') };
  }
  return { value: parsed };
}

export { BodyParseError };

/**
 * JSON body parser that says what is wrong: the SyntaxError position for broken JSON, the key for prototype
 * poisoning attempts (refused like Fastify's default parser does, but with a message naming the key).
 */
export default fp(
  async function jsonParser(app: FastifyInstance) {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const result = parseJsonBody(body as string);
      if ('error' in result) done(result.error, undefined);
      else done(null, result.value);
    });
  },
  { name: 'json-parser' },
);
