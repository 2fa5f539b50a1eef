import net from 'node:net';

/** Whether `port` can be bound on 127.0.0.1 right now. */
function bindable(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

let nextInRange = 0;

/**
 * A TCP port free on 127.0.0.1 right now, for servers a test starts: the OS picks it, or, when FREE_PORT_RANGE is set
 * (`18100-18199`: a shared machine where each user keeps to a range), the next free one in that range.
 */
export async function freePort(): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env.FREE_PORT_RANGE ?? '');
  if (!range) {
    const port = await bindable(0);
    if (port === null) throw new Error('no free port on 127.0.0.1');
    return port;
  }
  const low = Number(range[1]);
  const size = Number(range[2]) - low + 1;
  // Start from a per-process offset so parallel test workers rarely probe the same ports.
  if (nextInRange === 0) nextInRange = (process.pid * 7) % size;
  for (let tried = 0; tried < size; tried++) {
    const port = low + (nextInRange++ % size);
    if ((await bindable(port)) !== null) return port;
  }
  throw new Error(`no free port in FREE_PORT_RANGE=${process.env.FREE_PORT_RANGE}`);
}
