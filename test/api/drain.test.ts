/**
 * Drain during a rolling update (issue 11, finding 8): 1 of 122,337 keep-alive requests failed with a connection
 * error because closing the listener also closed idle keep-alive connections, under a client that had just picked
 * one for its next request. The real server process on 127.0.0.1: an idle keep-alive connection stays usable after
 * SIGTERM until its keep-alive timeout (its next request is answered, with Connection: close), and keep-alive
 * clients that stop opening connections when the pod leaves the Service (SHUTDOWN_DELAY_MS) lose no request.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PATIENT } from './support/app.js';
import { testModelDir } from './support/model.js';
import { startServerProcess } from './support/server-process.js';

const body = JSON.stringify(PATIENT);
const request = `POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

/** A raw keep-alive connection that sends requests one at a time and reads each answer (head + Content-Length body). */
function keepAliveConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  let closed = false;
  let waiting: ((answer: string | null) => void) | null = null;
  const tryAnswer = () => {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0 || !waiting) return;
    const length = Number(/content-length: (\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
    if (buffer.length < end + 4 + length) return;
    const answer = buffer.slice(0, end + 4 + length);
    buffer = buffer.slice(end + 4 + length);
    const done = waiting;
    waiting = null;
    done(answer);
  };
  socket.on('data', (d) => {
    buffer += d.toString();
    tryAnswer();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
    waiting?.(null);
  });
  const opened = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return {
    opened,
    isClosed: () => closed,
    closedPromise: new Promise<void>((resolve) => socket.once('close', () => resolve())),
    send: () =>
      new Promise<string | null>((resolve) => {
        if (closed) return resolve(null);
        waiting = resolve;
        socket.write(request);
      }),
    end: () => socket.destroy(),
  };
}

describe('drain on SIGTERM (real server process)', () => {
  it('an idle keep-alive connection is not closed under its client: its next request is answered with Connection: close', async () => {
    const server = await startServerProcess({
      MODEL_DIR: testModelDir(),
      SHUTDOWN_DELAY_MS: '300',
      SHUTDOWN_GRACE_MS: '15000',
      KEEP_ALIVE_TIMEOUT_MS: '8000',
    });
    const connection = keepAliveConnection(server.port);
    try {
      await connection.opened;
      const first = await connection.send();
      expect(first).toMatch(/^HTTP\/1\.1 200/);
      expect(first).toMatch(/keep-alive: timeout=\d+/i);
      server.child.kill('SIGTERM');
      // Well past SHUTDOWN_DELAY_MS, well before the connection's keep-alive timeout: the client may still use it.
      await new Promise((r) => setTimeout(r, 2000));
      expect(connection.isClosed()).toBe(false);
      const second = await connection.send();
      expect(second).toMatch(/^HTTP\/1\.1 200/);
      expect(second).toMatch(/connection: close/i);
      await connection.closedPromise;
      const exit = await server.exited;
      expect(exit.code, server.output().slice(-2000)).toBe(0);
    } finally {
      connection.end();
      await server.stop();
    }
  });

  it('keep-alive clients that stop opening connections when the pod leaves the Service lose no request', async () => {
    const delayMs = 1500;
    const server = await startServerProcess({ MODEL_DIR: testModelDir(), SHUTDOWN_DELAY_MS: String(delayMs), SHUTDOWN_GRACE_MS: '15000' });
    const statuses: number[] = [];
    const failures: string[] = [];
    let sigtermAt = Number.POSITIVE_INFINITY;
    const worker = async () => {
      // fetch keeps connections alive and honours the server's Keep-Alive timeout hint.
      while (performance.now() < sigtermAt + delayMs) {
        try {
          const res = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          await res.arrayBuffer();
          statuses.push(res.status);
        } catch (error) {
          failures.push(String((error as { cause?: { code?: string } }).cause?.code ?? error));
        }
        await new Promise((r) => setTimeout(r, Math.random() * 40)); // idle gaps: connections sit idle in the pool
      }
    };
    try {
      const workers = Array.from({ length: 8 }, worker);
      await new Promise((r) => setTimeout(r, 1500));
      sigtermAt = performance.now();
      server.child.kill('SIGTERM');
      await Promise.all(workers);
      const exit = await server.exited;
      expect(exit.code, server.output().slice(-2000)).toBe(0);
      expect(failures).toEqual([]);
      expect(statuses.length).toBeGreaterThan(50);
      expect(new Set(statuses)).toEqual(new Set([200]));
    } finally {
      await server.stop();
    }
  });
});
