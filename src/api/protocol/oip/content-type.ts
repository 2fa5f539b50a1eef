import type { FastifyInstance } from 'fastify';
import { parseJsonBody } from '../../plugins/json-parser.js';
import { V2Error } from './errors.js';

/**
 * Open Inference Protocol clients (e.g. NVIDIA's tritonclient) send the JSON request without a JSON Content-Type:
 * on the V2 routes any content type is read as JSON, by the same parser as application/json. The binary tensor
 * extension (Inference-Header-Content-Length) is not supported and is refused with a clear message, not misread.
 */
export function readAnyContentTypeAsJson(app: FastifyInstance, maxDepth: number): void {
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    if (request.headers['inference-header-content-length'] !== undefined) {
      return done(
        new V2Error(400, 'the binary tensor data extension is not supported; send tensors as JSON (e.g. binary_data=False)'),
        undefined,
      );
    }
    const result = parseJsonBody(body as string, maxDepth);
    if ('error' in result) done(result.error, undefined);
    else done(null, result.value);
  });
}
