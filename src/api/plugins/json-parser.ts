import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import type { ErrorDetail } from '../dataplane/refusals.js';
import { scanJson, type ScanProblem } from '../json/structure-scan.js';

/** Default most nesting levels of a JSON body: /predict needs 3, a V2 request with nested tensor data about 12. */
export const DEFAULT_JSON_MAX_DEPTH = 32;

/**
 * Bodies up to this size keep their text on the request (`jsonText`): the prediction log stores a single patient as
 * the client sent it instead of serialising it again. Larger ones (a padded body) are not kept.
 */
export const KEPT_JSON_TEXT_CHARS = 4096;

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body's text, when it is at most KEPT_JSON_TEXT_CHARS long; otherwise null. */
    jsonText: string | null;
  }
}

/** A body that cannot be read as JSON (400), with the one detail that says why. */
export class BodyParseError extends Error {
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly code: string,
    readonly detail: ErrorDetail,
  ) {
    super(message);
  }
}

function scanError(problem: ScanProblem): BodyParseError {
  switch (problem.kind) {
    case 'depth':
      return new BodyParseError(`request body is nested deeper than ${problem.maxDepth} levels (at ${problem.path})`, 'HD_JSON_TOO_DEEP', {
        field: problem.path,
        rule: `must be nested at most ${problem.maxDepth} levels deep`,
      });
    case 'duplicate':
      return new BodyParseError(`request body has the key '${problem.key}' twice in one object (${problem.path})`, 'HD_DUPLICATE_KEY', {
        field: problem.path,
        rule: `duplicate key '${problem.key}': each key may appear once per object`,
      });
    case 'forbidden':
      return new BodyParseError(`request body contains the forbidden key '${problem.key}' (${problem.path})`, 'HD_FORBIDDEN_KEY', {
        field: problem.path,
        rule: 'forbidden key',
      });
  }
}

/**
 * Parse a JSON body, or a BodyParseError (400) saying what is wrong. The structure scan (depth, duplicate keys,
 * named poisoning keys) runs first, so a deeply nested body is refused before any parsing; then secure-json-parse
 * (Fastify's own safe parser) parses and refuses prototype poisoning.
 */
export function parseJsonBody(text: string, maxDepth = DEFAULT_JSON_MAX_DEPTH): { value: unknown } | { error: BodyParseError } {
  if (text.trim().length === 0) {
    return {
      error: new BodyParseError('request body is empty; send a JSON object', 'FST_ERR_CTP_EMPTY_JSON_BODY', {
        field: '(body)',
        rule: 'must not be empty',
      }),
    };
  }
  const problem = scanJson(text, maxDepth);
  if (problem) return { error: scanError(problem) };
  try {
    return { value: sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }) as unknown };
  } catch (error) {
    return {
      error: new BodyParseError(`request body is not valid JSON: ${(error as Error).message}`, 'HD_INVALID_JSON', {
        field: '(body)',
        rule: 'must be valid JSON',
      }),
    };
  }
}

/**
 * JSON body parser that says what is wrong: the SyntaxError position for broken JSON, the path of a duplicate or
 * poisoning key, the depth limit.
 */
export default fp(
  async function jsonParser(app: FastifyInstance, opts: { maxDepth?: number }) {
    app.removeContentTypeParser('application/json');
    app.decorateRequest('jsonText', null);
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const text = body as string;
      const result = parseJsonBody(text, opts.maxDepth);
      if ('error' in result) return done(result.error, undefined);
      if (text.length <= KEPT_JSON_TEXT_CHARS) request.jsonText = text;
      done(null, result.value);
    });
  },
  { name: 'json-parser' },
);
