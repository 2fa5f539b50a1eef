import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/** Bodies from this size on count as large (the default BODY_LIMIT_BYTES is 1 MiB). */
export const LARGE_BODY_BYTES = 256 * 1024;
/** Quiet time after the last large request before memory is reclaimed. */
export const RECLAIM_AFTER_MS = 1000;

/** V8's gc extension (`--expose-gc`); its options name the kind of collection. */
type GcExtension = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async'; flavor?: 'regular' | 'last-resort' }) => void;

/** V8's gc extension, exposed once (the `--expose-gc` flag set at run time, read through a new context). */
function gcExtension(): GcExtension | null {
  const existing = (globalThis as { gc?: GcExtension }).gc;
  if (typeof existing === 'function') return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as GcExtension;
  } catch {
    return null;
  }
}

/**
 * Whether this V8 reads the gc extension's `flavor` option (Node 24's does). An older one reads an options object it
 * does not know as `gc(true)`, a minor collection: there a plain full collection is the better call.
 */
const LAST_RESORT_SUPPORTED = Number(process.versions.node.split('.')[0]) >= 24;

/**
 * Memory returns near its baseline after a burst of large requests. V8 collects garbage when it allocates, so a
 * server that goes quiet after a burst of large bodies (parsed bodies, socket buffers, error answers) keeps that
 * memory for as long as it stays quiet: measured +200 MB RSS after 30 invalid 2-8 MB batches. Once no large request
 * has arrived for RECLAIM_AFTER_MS, one collection of the 'last-resort' flavour gives it back: it collects until
 * nothing more is freed and returns the emptied pages, which V8's memory reducer does on its own only ~10 s later (and
 * later still on a busy machine). A regular full collection freed the objects but kept the pages: RSS stayed ~+110 MB
 * for ~10 s after a burst here, against ~+20 MB one second after it now. Its cost: ~50 ms for a 30 MB live heap (a
 * regular one ~20 ms), once per quiet spell after large requests.
 */
export default fp(
  async function memoryReclaim(app: FastifyInstance) {
    const gc = gcExtension();
    if (!gc) return;
    const reclaim = LAST_RESORT_SUPPORTED ? () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }) : () => gc();
    let timer: NodeJS.Timeout | undefined;
    // Callback-style hook: no promise per request on the hot path.
    app.addHook('onResponse', (request, _reply, done) => {
      if (Number(request.headers['content-length'] ?? 0) >= LARGE_BODY_BYTES) {
        clearTimeout(timer);
        timer = setTimeout(reclaim, RECLAIM_AFTER_MS);
        timer.unref();
      }
      done();
    });
    app.addHook('onClose', async () => clearTimeout(timer));
  },
  { name: 'memory-reclaim' },
);
