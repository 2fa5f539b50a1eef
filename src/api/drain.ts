import type { Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Wait until `server` has no open connection, or until `deadline` (a performance.now() time); returns how many are
 * still open. Used at shutdown before closing the listener: closing it closes idle keep-alive connections at once
 * (Node's server.close()), and a client that picked one of them for its next request at that moment sees the
 * connection close under it. Waited out instead, every connection ends cleanly: one carrying a request is closed
 * after its answer (`Connection: close` while draining), an idle one by its own keep-alive timeout, which the client
 * was told (`Keep-Alive: timeout=N`) and which well-behaved clients do not race.
 */
export async function connectionsClosed(server: Server, deadline: number, pollMs = 50): Promise<number> {
  for (;;) {
    const open = await new Promise<number>((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
    if (open === 0 || performance.now() >= deadline) return open;
    await sleep(Math.min(pollMs, Math.max(1, deadline - performance.now())));
  }
}
