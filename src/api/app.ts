import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { ApiConfig } from './config.js';
import { serverTimeouts } from './timeouts.js';
import { lazyRequestLogger } from './lazy-request-logger.js';
import { DriftHolder } from './drift.js';
import { RegistrySource } from './model/registry-source.js';
import { ModelService } from './model/service.js';
import { DirectorySource, type ModelSource } from './model/source.js';
import { ModelUpdater, type UpdateResult } from './model/updater.js';
import auth from './plugins/auth.js';
import errorHandler, { frameworkErrors } from './plugins/error-handler.js';
import memoryReclaim from './plugins/memory-reclaim.js';
import methodNotAllowed from './plugins/method-not-allowed.js';
import jsonParser from './plugins/json-parser.js';
import metrics from './plugins/metrics.js';
import security from './plugins/security.js';
import docs from './plugins/swagger.js';
import driftRoutes from './routes/drift.js';
import healthRoutes from './routes/health.js';
import metricsRoutes from './routes/metrics.js';
import modelRoutes from './routes/model.js';
import uiRoutes from './routes/ui.js';
import { DataPlane } from './dataplane/dataplane.js';
import { RefusalMonitor } from './dataplane/refusal-monitor.js';
import { InvalidInputError } from './dataplane/refusals.js';
import v2Routes from './protocol/oip/routes.js';
import predictRoutes from './protocol/predict/routes.js';
import outcomeRoutes from './routes/outcomes.js';
import { servingModel } from './routes/outcomes.js';
import { PredictionLog } from '../outcomes/log.js';
import { performanceReport, type PerformanceReport } from '../outcomes/monitor.js';
import { openPredictionStore } from '../outcomes/open-store.js';
import type { PredictionStore } from '../outcomes/store.js';
import { batchSchema, errorSchema, patientSchema, predictionSchema } from './schemas/patient.js';

declare module 'fastify' {
  interface FastifyInstance {
    modelService: ModelService;
    drift: DriftHolder;
    /** What every protocol does with validated rows: predict, explain, feed the monitoring. */
    dataPlane: DataPlane;
    lifecycle: { draining: boolean };
    /** Where the model comes from, and the last check and failure. */
    modelUpdater: ModelUpdater;
    /**
     * Check the model source now (SIGHUP; the registry poll does the same): re-read MODEL_DIR, or fetch the version
     * MODEL_URI names if it changed; a sound model is swapped in atomically. Logs and counts the result.
     */
    reloadModel: () => Promise<UpdateResult>;
    /** The prediction log (batched writes to the store); null when PREDICTION_LOG=off or its store could not be opened. */
    predictionLog: PredictionLog | null;
  }
}

function packageVersion(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      return (JSON.parse(readFileSync(path.resolve(here, candidate), 'utf8')) as { version: string }).version;
    } catch {
      // next layout (src/ via tsx or dist/)
    }
  }
  return '0.0.0';
}

/** Honour a client's x-request-id when it is a sane token (no log injection); otherwise mint a UUID. */
export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
}

/** MODEL_URI (with MLFLOW_TRACKING_URI) when set, else MODEL_DIR. */
export function modelSourceFor(config: ApiConfig): ModelSource {
  if (config.modelUri === null) return new DirectorySource(path.resolve(config.modelDir));
  return new RegistrySource({
    modelUri: config.modelUri,
    mlflow: { ...config.mlflow, trackingUri: config.mlflow.trackingUri! },
    cacheDir: config.modelCacheDir,
  });
}

/**
 * Build the API (not listening): loads the model from its source (MODEL_DIR, or the registry version MODEL_URI names;
 * throws if it cannot be served), then registers plugins and routes and starts following the registry alias.
 * Tests call this with `loadConfig({...})` and use inject() or listen({ port: 0 }).
 */
export interface BuildOptions {
  /** Where JSON log lines go (default stdout); tests pass a stream to read them. */
  logStream?: DestinationStream;
}

export async function buildApp(config: ApiConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  // The registry is the source of truth when configured: no fallback to a baked-in model (see README).
  const source = modelSourceFor(config);
  const modelService = new ModelService(path.resolve(config.modelDir));
  let model;
  try {
    model = await modelService.load(await source.initial());
  } catch (error) {
    await source.close();
    throw error;
  }
  const drift = new DriftHolder(config.driftWindowSize, model.card);

  const app = Fastify({
    logger: {
      level: config.logLevel,
      // Patient data never reaches the logs: bodies are not logged, and credentials are redacted.
      redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
      ...(options.logStream && { stream: options.logStream }),
    },
    genReqId: requestId,
    childLoggerFactory: lazyRequestLogger,
    frameworkErrors,
    // Path parameters are bounded by their schemas (maxLength) and answered 400/404 there; Fastify's own limit
    // (100) would answer 414 with a body of its own, outside the documented contract. Node's header limit bounds URLs.
    routerOptions: { maxParamLength: 16_384 },
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: config.bodyLimitBytes,
    ...serverTimeouts(config.timeouts),
    // Keep serving requests that arrive on open connections while closing (with Connection: close), so a client
    // never sees a 503 for a request the server accepted during graceful shutdown.
    return503OnClosing: false,
    ajv: {
      // Strict input: no type coercion ("63" is not 63), unknown fields rejected (not silently removed). Ajv only
      // checks envelopes (V2 requests, path parameters): it stops at the first problem, so a request with 100,000
      // bad items costs one error, not 100,000. Patient values are checked by the shared row validation, which
      // reports every problem up to MAX_ERROR_DETAILS. `verbose` puts the offending value in the error, for messages.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, useDefaults: false, verbose: true },
    },
  });

  // JSON only: a text/plain body is answered 415 rather than parsed into a string.
  app.removeContentTypeParser('text/plain');
  app.decorate('modelService', modelService);
  app.decorate('drift', drift);
  app.decorate('lifecycle', { draining: false });
  // Callback-style hooks on every request's path (here and in the plugins): no promise and microtask per hook.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // While draining, tell keep-alive clients to stop reusing this connection, so none is idle (and closed under
    // a client about to send) when the listener shuts.
    if (app.lifecycle.draining) reply.header('connection', 'close');
    done();
  });
  app.addHook('onClose', async () => {
    await app.modelUpdater.stop();
    await modelService.close();
    await source.close();
    // After the last request (the server is closed): every accepted prediction is written before the process exits.
    clearInterval(retention);
    await app.predictionLog?.close();
  });

  // The prediction log: a store that cannot be opened leaves the API serving without it (predictions never depend
  // on the log), said loudly in the log and on /metrics; /feedback and /performance then answer 503.
  let store: PredictionStore | null = null;
  let storeOpenFailed = false;
  if (config.predictionLog.enabled) {
    try {
      store = await openPredictionStore(config.predictionLog);
      app.log.info({ store: store.kind }, 'prediction log open');
    } catch (error) {
      storeOpenFailed = true;
      // The message only (a connection error names host and database, never rows; DATABASE_URL's password is not in it).
      app.log.error({ error: (error as Error).message }, 'cannot open the prediction log; serving without it');
    }
  }
  let predictionLog: PredictionLog | null = null;
  let cachedReport: { at: number; report: Promise<PerformanceReport | null> } | null = null;
  const windows = config.performance;
  const outcomes = {
    queuedRows: () => predictionLog?.queued ?? null,
    // Scrapes read the store at most once a second, however many gauges and scrapers ask.
    performance: () => {
      if (!predictionLog) return Promise.resolve(null);
      if (!cachedReport || performance.now() - cachedReport.at > 1000) {
        const log = predictionLog;
        cachedReport = {
          at: performance.now(),
          report: performanceReport(log.store, windows, servingModel(modelService.current)).catch((error: unknown) => {
            app.metrics.recordStoreFailure('read');
            app.log.error({ error: (error as Error).message }, 'prediction store failed (performance)');
            return null;
          }),
        };
      }
      return cachedReport.report;
    },
  };

  await app.register(methodNotAllowed);
  await app.register(errorHandler, { bodyLimit: config.bodyLimitBytes });
  await app.register(jsonParser, { maxDepth: config.jsonMaxDepth });
  const refusalMonitor = new RefusalMonitor(config.driftWindowSize);
  await app.register(metrics, {
    driftSnapshot: () => drift.snapshot(),
    refusedShare: () => refusalMonitor.status().refusedShare,
    outcomes,
  });
  await app.register(memoryReclaim);
  app.metrics.setModel(model.version, model.card.selectedModel);
  if (storeOpenFailed) app.metrics.recordStoreFailure('write');
  if (store) {
    predictionLog = new PredictionLog(store, config.predictionLog, {
      written: (rows, seconds) => app.metrics.recordLogWrite(rows, seconds),
      failed(error, rows) {
        app.metrics.recordStoreFailure('write');
        app.log.error({ error: error.message, rows }, 'prediction log write failed; the rows stay queued for the next flush');
      },
      dropped(rows) {
        app.metrics.recordLogDropped(rows);
        app.log.error({ rows }, 'prediction log dropped predictions it could not write');
      },
    });
  }
  app.decorate('predictionLog', predictionLog);
  const retention = startRetention(app, config.predictionLog.retentionDays);
  app.decorate('dataPlane', new DataPlane(modelService, app.metrics, drift, refusalMonitor, predictionLog));
  // Refused input is monitored whichever route refused it (the error handlers only shape the answer).
  app.addHook('onError', (_request, _reply, error, done) => {
    if (error instanceof InvalidInputError) app.dataPlane.refused(error.refusals);
    done();
  });
  await app.register(auth, { apiKeys: config.apiKeys });
  await app.register(security, config);

  const updater = new ModelUpdater(source, modelService, {
    swapped(next, previous) {
      // The previous model's predictions are written before the new model's start arriving.
      void app.predictionLog?.flush();
      drift.reset(next.card);
      app.metrics.setModel(next.version, next.card.selectedModel);
      app.metrics.recordReload('success');
      app.log.info({ previousVersion: previous?.version ?? null, version: next.version, source: next.origin }, 'model reloaded');
    },
    failed(failure, keptVersion) {
      if (failure.reason === 'load') app.metrics.recordReload('failure');
      app.metrics.recordSourceFailure(failure.reason);
      app.log.error(
        { reason: failure.reason, error: failure.message, candidateVersion: failure.version, keptVersion, source: source.location },
        `model reload refused (${failure.reason}); still serving the previous model`,
      );
    },
  });
  app.decorate('modelUpdater', updater);
  app.decorate('reloadModel', () => updater.check());
  if (model.origin.kind === 'registry') app.log.info({ version: model.version, source: model.origin }, 'model fetched from the registry');
  updater.poll(config.modelPollIntervalMs);

  const version = packageVersion();
  await app.register(docs, { version });
  app.addSchema(patientSchema);
  app.addSchema(batchSchema(config.maxBatchSize));
  app.addSchema(predictionSchema);
  app.addSchema(errorSchema);

  await app.register(healthRoutes);
  await app.register(modelRoutes);
  await app.register(metricsRoutes);
  const limits = {
    maxBatchSize: config.maxBatchSize,
    maxErrorDetails: config.maxErrorDetails,
    jsonMaxDepth: config.jsonMaxDepth,
    secured: config.apiKeys.length > 0,
  };
  await app.register(predictRoutes, { logPatientData: config.logPatientData, maxExplainRows: config.maxExplainRows, ...limits });
  await app.register(v2Routes, { ...limits, serverVersion: version });
  await app.register(driftRoutes, { getMonitor: () => drift.monitor, refusals: () => refusalMonitor.status() });
  await app.register(outcomeRoutes, { ...limits, windows });
  await app.register(uiRoutes);
  return app;
}

const HOUR_MS = 3_600_000;

/** Retention: delete predictions older than `days` now and every hour (0: keep forever). */
function startRetention(app: FastifyInstance, days: number): NodeJS.Timeout | undefined {
  if (days === 0 || !app.predictionLog) return undefined;
  const store = app.predictionLog.store;
  const sweep = () =>
    void store.deleteCreatedBefore(new Date(Date.now() - days * 24 * HOUR_MS).toISOString()).then(
      (deleted) => deleted > 0 && app.log.info({ deleted, retentionDays: days }, 'prediction log retention'),
      (error: unknown) => {
        app.metrics.recordStoreFailure('write');
        app.log.error({ error: (error as Error).message }, 'prediction log retention failed');
      },
    );
  sweep();
  const timer = setInterval(sweep, HOUR_MS);
  timer.unref();
  return timer;
}
