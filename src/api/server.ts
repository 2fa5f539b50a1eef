/**
 * Entry point: `npm start` (node dist/api/server.js) or `npm run dev` (tsx src/api/server.ts).
 * Reads and validates the environment, serves the model, and handles signals:
 *   SIGTERM/SIGINT → /ready answers 503 at once and every answer carries Connection: close; after SHUTDOWN_DELAY_MS
 *                    the server waits for its connections to end (answered, or idle past their keep-alive timeout),
 *                    then closes the listener, in-flight requests finish, exit 0; if that takes longer than
 *                    SHUTDOWN_GRACE_MS, exit 1 (close-with-grace).
 *   SIGHUP         → check the model source now: re-read MODEL_DIR, or fetch MODEL_URI's version if it moved (atomic
 *                    swap; a broken model is refused, the old one serves on). A registry alias is also polled.
 */
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, environmentHelp, loadConfig } from './config.js';
import { connectionsClosed } from './drain.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${error.message}\n\nEnvironment variables:\n${environmentHelp()}`);
      process.exit(2);
    }
    throw error;
  }

  let app;
  try {
    app = await buildApp(config);
  } catch (error) {
    // The registry is the source of truth when MODEL_URI is set: no fallback to MODEL_DIR (see README).
    const source = config.modelUri === null ? { modelDir: config.modelDir } : { modelUri: config.modelUri };
    console.error(JSON.stringify({ level: 'fatal', msg: `cannot start: ${(error as Error).message}`, ...source }));
    process.exit(1);
  }

  closeWithGrace(
    {
      delay: config.shutdownGraceMs,
      skip: ['SIGHUP'],
      logger: { error: (message: unknown) => app.log.error({ message }, 'graceful shutdown') },
    },
    async ({ signal, err }) => {
      const signalledAt = performance.now();
      if (err) app.log.error({ err }, 'shutting down after an error');
      app.lifecycle.draining = true;
      // Write what the prediction log holds now; what arrives while draining is written when the app closes.
      void app.predictionLog?.flush();
      app.log.info({ signal, graceMs: config.shutdownGraceMs, delayMs: config.shutdownDelayMs }, 'shutting down: /ready now answers 503');
      if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
      // Leave the last part of the grace period for closing: in-flight requests finish there.
      const deadline = signalledAt + config.shutdownGraceMs - Math.min(1000, config.shutdownGraceMs / 4);
      const open = await connectionsClosed(app.server, deadline);
      app.log.info({ openConnections: open }, open === 0 ? 'all connections ended' : 'closing the connections still open');
      await app.close();
      app.log.info('closed');
    },
  );

  process.on('SIGHUP', () => {
    app.log.info('SIGHUP: checking the model source');
    void app.reloadModel();
  });

  await app.listen({ host: config.host, port: config.port });
}

await main();
