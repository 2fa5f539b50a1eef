/**
 * Bounded work per request (issue 11, findings 3 and 4): error answers are capped (first MAX_ERROR_DETAILS details
 * plus a count), a batch over MAX_BATCH_SIZE is refused before its rows are read, explanations are capped at
 * MAX_EXPLAIN_ROWS, large requests release the event loop while they are read (a probe sent meanwhile is answered
 * first), and memory returns near its baseline after a hostile burst. Speed itself is measured by
 * `npm run bench:hostile`, not asserted here.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';
import { testModelDir } from './support/model.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

/** Breaks three rules: age above its maximum, chol below its minimum, sex not a code. */
const INVALID = { ...PATIENT, age: 500, chol: 5, sex: 9 };
const batchOf = (n: number, row: object) => ({ instances: Array.from({ length: n }, () => row) });

describe('error answers are bounded', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startApp({ MAX_BATCH_SIZE: '10000', BODY_LIMIT_BYTES: '8388608' });
  });
  afterAll(() => server.close());

  it('10,000 rows with 3 problems each: the first 100 details and a count of the other 29,900, in a small answer', async () => {
    const res = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batchOf(10_000, INVALID)),
    });
    const text = await res.text();
    const body = JSON.parse(text) as { details: { field: string }[]; omittedDetails: number; message: string };
    expect(res.status).toBe(400);
    expect(body.details).toHaveLength(100);
    expect(body.details[0]!.field).toBe('instances[0].age');
    expect(body.omittedDetails).toBe(29_900);
    expect(body.message).toContain('and 29995 more');
    expect(text.length).toBeLessThan(50_000);
  });

  it('V2: the same cap, joined into the protocol message', async () => {
    const rows = Array.from({ length: 10_000 }, () => [500, 9, 1, 145, 5, 1, 2, 150, 0, 2.3, 3, 0, 6]);
    const res = await postJson(`${server.url}/v2/models/heart-disease/infer`, {
      inputs: [{ name: 'features', shape: [10_000, 13], datatype: 'FP32', data: rows }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('and 29995 more');
    expect(res.body.error.length).toBeLessThan(5000);
  });

  it('a batch over MAX_BATCH_SIZE is refused on its size alone: one detail, whatever its rows hold', async () => {
    const small = await startApp({ MAX_ERROR_DETAILS: '5' });
    try {
      // ~1 MB of 33,000 invalid rows: once answered with 99,001 details (11.7 MB).
      const res = await fetch(`${small.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batchOf(5200, { age: 500, sex: 9, cp: 9 })),
      });
      const body = (await res.json()) as { details: { field: string; rule: string }[] };
      expect(res.status).toBe(400);
      expect(body.details).toEqual([{ field: 'instances', rule: 'must have at most 1000 items (MAX_BATCH_SIZE)' }]);
      const capped = await postJson(`${small.url}/predict`, batchOf(50, INVALID));
      expect(capped.body.details).toHaveLength(5);
      expect(capped.body.omittedDetails).toBe(145);
    } finally {
      await small.close();
    }
  });

  it('?explain=true on more than MAX_EXPLAIN_ROWS rows: 400 naming the limit', async () => {
    const limited = await startApp({ MAX_EXPLAIN_ROWS: '10' });
    try {
      const res = await postJson(`${limited.url}/predict?explain=true`, batchOf(11, PATIENT));
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([{ field: 'explain', rule: expect.stringContaining('MAX_EXPLAIN_ROWS') }]);
      expect((await postJson(`${limited.url}/predict?explain=true`, batchOf(10, PATIENT))).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('a probe sent while a 10,000-row batch is being read is answered before that batch', async () => {
    const { port } = new URL(server.url);
    const heavy = JSON.stringify(batchOf(10_000, INVALID));
    const order: string[] = [];
    const heavyDone = new Promise<void>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (d) => {
        received += d.toString();
        if (received.includes('omittedDetails')) {
          order.push('heavy');
          socket.destroy();
          resolve();
        }
      });
      socket.on('error', reject);
      socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${heavy.length}\r\n\r\n`);
      socket.write(heavy, () => {
        // The whole body is with the server: probe now, while it parses and validates.
        setTimeout(() => {
          void fetch(`${server.url}/health`).then(async (res) => {
            await res.arrayBuffer();
            order.push(`probe ${res.status}`);
          });
        }, 5);
      });
    });
    await heavyDone;
    await new Promise((r) => setTimeout(r, 200));
    expect(order).toEqual(['probe 200', 'heavy']);
  });
});

describe('memory after a hostile burst (real server process)', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({
      MODEL_DIR: testModelDir(),
      LOG_LEVEL: 'warn',
      MAX_BATCH_SIZE: '10000',
      BODY_LIMIT_BYTES: '8388608',
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  /** MB of the server's memory, from its /metrics: the resident set, and V8's heap and external memory (for the log line). */
  const memory = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const mb = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)![1]) / 2 ** 20;
    return {
      rss: mb('process_resident_memory_bytes'),
      heap: mb('nodejs_heap_size_total_bytes'),
      external: mb('nodejs_external_memory_bytes'),
    };
  };
  const rss = async () => (await memory()).rss;
  const memoryLine = ({ rss, heap, external }: { rss: number; heap: number; external: number }) =>
    `${rss.toFixed(0)} MB (V8 heap ${heap.toFixed(0)}, external ${external.toFixed(0)})`;

  it('RSS returns near its baseline within 6 s of a burst of 30 large invalid batches: at most 60 MB above it (measured ~+20 MB after 1 s)', async () => {
    for (let i = 0; i < 30; i++) await postJson(`${server.url}/predict`, PATIENT); // warm up
    const before = await rss();
    const bodies = [
      JSON.stringify(batchOf(10_000, INVALID)),
      JSON.stringify(batchOf(40_000, INVALID)),
      '['.repeat(3_000_000) + ']'.repeat(3_000_000),
    ];
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[i % 3],
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    const peak = await rss();
    // Polled: memory is given back RECLAIM_AFTER_MS after the last large request (plugins/memory-reclaim.ts). 6 s is
    // well short of V8's own memory reducer (~10 s here, later on a busy machine), which a regular collection left the
    // pages to: then RSS stayed ~+110 MB for ~10 s, and once for all of 20 s inside the full suite.
    let after = peak;
    for (let waited = 0; waited < 6 && after - before >= 60; waited++) {
      await new Promise((r) => setTimeout(r, 1000));
      after = await rss();
    }
    console.log(
      `[memory] RSS before ${before.toFixed(0)} MB, right after the burst ${peak.toFixed(0)} MB, then ${memoryLine(await memory())}`,
    );
    expect(new Set(statuses)).toEqual(new Set([400]));
    // Bound for a loaded CI machine (what malloc keeps varies); before bounded work one 1 MB batch of invalid rows kept ~300 MB.
    expect(after - before).toBeLessThan(60);
  });
});
