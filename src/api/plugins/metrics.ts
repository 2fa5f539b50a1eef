import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, onResponseHookHandler } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { levelCode } from '../../drift/stats.js';
import { SOURCE_FAILURE_REASONS, type SourceFailureReason } from '../model/source.js';
import type { PerformanceReport } from '../../outcomes/monitor.js';
import type { WindowPerformance } from '../../outcomes/performance.js';
import type { FeedbackStatus } from '../../outcomes/store.js';

/** What the drift gauges read (structural, so this plugin does not depend on the monitor's internals). */
export interface DriftSnapshot {
  status: 'ok' | 'warning' | 'drift';
  features: Record<string, { psi: number; ks?: number | null; status: string }>;
}

export interface ApiMetrics {
  registry: Registry;
  recordPredictions(labels: readonly number[], probabilities: readonly number[]): void;
  setModel(version: string, model: string): void;
  recordReload(result: 'success' | 'failure'): void;
  recordSourceFailure(reason: SourceFailureReason): void;
  /** Rows refused by input validation, in all and per field and rule. */
  recordRefusals(refusedRows: number, byFieldRule: readonly { field: string; rule: string; rows: number }[]): void;
  /** The prediction log wrote `rows` in `seconds`. */
  recordLogWrite(rows: number, seconds: number): void;
  /** A prediction store operation failed ('write': a queued batch, kept for retry; 'read': feedback or performance). */
  recordStoreFailure(operation: 'write' | 'read'): void;
  /** Predictions the log gave up on (queue over PREDICTION_LOG_MAX_QUEUED_ROWS, or unwritable at shutdown). */
  recordLogDropped(rows: number): void;
  recordFeedback(statuses: readonly FeedbackStatus[], seconds: number): void;
}

/** What the outcome gauges read at scrape time. */
export interface OutcomeSources {
  /** Predictions waiting to be written; null when the log is off. */
  queuedRows: () => number | null;
  /** The live performance report (cached briefly by the caller); null when the log is off or unreachable. */
  performance: () => Promise<PerformanceReport | null>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ApiMetrics;
  }
}

/**
 * Prometheus metrics (names fixed in the project contract, prefix hd_). A registry per app instance, so tests can
 * build several apps in one process. Request metrics use the route pattern (never the raw URL) as label, so
 * cardinality stays bounded; unmatched URLs count under route="unmatched".
 */
export default fp(
  async function metrics(
    app: FastifyInstance,
    opts: { driftSnapshot: () => DriftSnapshot | null; refusedShare: () => number; outcomes: OutcomeSources },
  ) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });

    const labelNames = ['method', 'route', 'status_code'] as const;
    const requests = new Counter({
      name: 'hd_http_requests_total',
      help: 'HTTP requests by method, route and status code',
      labelNames,
      registers: [registry],
    });
    const duration = new Histogram({
      name: 'hd_http_request_duration_seconds',
      help: 'HTTP request duration in seconds by method, route and status code',
      labelNames,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    const predictions = new Counter({
      name: 'hd_predictions_total',
      help: 'Predicted rows by label',
      labelNames: ['label'] as const,
      registers: [registry],
    });
    const probability = new Histogram({
      name: 'hd_prediction_probability',
      help: 'Predicted probability of disease',
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
      registers: [registry],
    });
    const modelInfo = new Gauge({
      name: 'hd_model_info',
      help: 'Model being served (value 1)',
      labelNames: ['version', 'model'] as const,
      registers: [registry],
    });
    const reloads = new Counter({
      name: 'hd_model_reloads_total',
      help: 'Model reloads by result',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    const sourceFailures = new Counter({
      name: 'hd_model_source_failures_total',
      help: 'Times the model the source names was not taken (the current one kept serving), by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    for (const reason of SOURCE_FAILURE_REASONS) sourceFailures.inc({ reason }, 0);
    const refusedRows = new Counter({
      name: 'hd_refused_rows_total',
      help: 'Rows refused by input validation (each would have been one prediction)',
      registers: [registry],
    });
    const refusals = new Counter({
      name: 'hd_refusals_total',
      help: 'Refused rows by field and rule (a row counts once per field and rule it breaks; field "(unknown)" = a key that is no feature)',
      labelNames: ['field', 'rule'] as const,
      registers: [registry],
    });
    new Gauge({
      name: 'hd_refused_share',
      help: 'Share of the most recent rows (DRIFT_WINDOW_SIZE) that were refused',
      registers: [registry],
      collect() {
        this.set(opts.refusedShare());
      },
    });
    refusedRows.inc(0);
    reloads.inc({ result: 'success' }, 0);
    reloads.inc({ result: 'failure' }, 0);
    const negatives = predictions.labels({ label: '0' });
    const positives = predictions.labels({ label: '1' });
    negatives.inc(0);
    positives.inc(0);

    // Drift gauges read the monitor at scrape time (no timers); each gauge collects for itself because prom-client
    // serialises metrics in registration order, so one gauge filling another would show the previous scrape.
    new Gauge({
      name: 'hd_drift_psi',
      help: 'Population stability index of recent inputs vs the training reference',
      labelNames: ['feature'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [feature, stats] of Object.entries(opts.driftSnapshot()?.features ?? {})) {
          if (Number.isFinite(stats.psi)) this.set({ feature }, stats.psi);
        }
      },
    });
    new Gauge({
      name: 'hd_drift_ks',
      help: 'Kolmogorov-Smirnov statistic of recent numeric inputs vs the training reference',
      labelNames: ['feature'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [feature, stats] of Object.entries(opts.driftSnapshot()?.features ?? {})) {
          if (typeof stats.ks === 'number' && Number.isFinite(stats.ks)) this.set({ feature }, stats.ks);
        }
      },
    });
    new Gauge({
      name: 'hd_drift_status',
      help: 'Overall drift status: 0 ok, 1 warning, 2 drift',
      registers: [registry],
      collect() {
        const snapshot = opts.driftSnapshot();
        if (snapshot) this.set(levelCode(snapshot.status));
      },
    });

    // The prediction log and outcomes.
    const logWrittenRows = new Counter({
      name: 'hd_prediction_log_written_rows_total',
      help: 'Predictions written to the prediction log',
      registers: [registry],
    });
    const logWriteDuration = new Histogram({
      name: 'hd_prediction_log_write_duration_seconds',
      help: 'Time to write one batch of predictions to the prediction log',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
    const storeFailures = new Counter({
      name: 'hd_prediction_store_failures_total',
      help: 'Prediction store operations that failed (write: a batch kept queued for retry; read: feedback or performance)',
      labelNames: ['operation'] as const,
      registers: [registry],
    });
    const logDropped = new Counter({
      name: 'hd_prediction_log_dropped_rows_total',
      help: 'Predictions the log gave up on (queue full while the store failed, or unwritable at shutdown)',
      registers: [registry],
    });
    new Gauge({
      name: 'hd_prediction_log_queued_rows',
      help: 'Predictions waiting to be written to the prediction log',
      registers: [registry],
      collect() {
        const queued = opts.outcomes.queuedRows();
        if (queued !== null) this.set(queued);
      },
    });
    const feedback = new Counter({
      name: 'hd_feedback_total',
      help: 'Outcome feedback items by result (recorded, unchanged, conflict, not_found)',
      labelNames: ['status'] as const,
      registers: [registry],
    });
    const feedbackDuration = new Histogram({
      name: 'hd_feedback_write_duration_seconds',
      help: 'Time to record one feedback request in the prediction store',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
    for (const operation of ['write', 'read'] as const) storeFailures.inc({ operation }, 0);
    for (const status of ['recorded', 'unchanged', 'conflict', 'not_found'] as const) feedback.inc({ status }, 0);
    logWrittenRows.inc(0);
    logDropped.inc(0);

    // Live performance per model version and window ("count": the most recent PERFORMANCE_WINDOW_COUNT labelled
    // predictions; "time": observed in the last PERFORMANCE_WINDOW_DAYS). A metric is absent while its window holds
    // fewer than PERFORMANCE_MIN_COUNT, so alerts never fire on a handful of outcomes.
    const livePerformance = (name: string, help: string, value: (w: WindowPerformance) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['model_version', 'window'] as const,
        registers: [registry],
        async collect() {
          this.reset();
          const report = await opts.outcomes.performance();
          for (const model of report?.models ?? []) {
            for (const [window, w] of [
              ['count', model.byCount],
              ['time', model.byTime],
            ] as const) {
              const v = value(w);
              if (v !== null && Number.isFinite(v)) this.set({ model_version: model.modelVersion, window }, v);
            }
          }
        },
      });
    livePerformance('hd_live_labelled_predictions', 'Labelled predictions in the window', (w) => w.count);
    livePerformance('hd_live_roc_auc', 'ROC-AUC of labelled predictions in the window', (w) => w.rocAuc);
    livePerformance('hd_live_brier', 'Brier score of labelled predictions in the window', (w) => w.brier);
    livePerformance('hd_live_log_loss', 'Log loss of labelled predictions in the window', (w) => w.logLoss);
    livePerformance('hd_live_mean_predicted', 'Mean predicted probability of labelled predictions in the window', (w) => w.meanPredicted);
    livePerformance('hd_live_observed_rate', 'Observed rate of disease among labelled predictions in the window', (w) => w.observedRate);
    new Gauge({
      name: 'hd_training_roc_auc_lower_bound',
      help: "The serving model's cross-validation ROC-AUC mean − 2·std (model.json)",
      labelNames: ['model_version'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const model of (await opts.outcomes.performance())?.models ?? []) {
          if (model.trainingAuc) this.set({ model_version: model.modelVersion }, model.trainingAuc.lowerBound);
        }
      },
    });

    const observe = (method: string, route: string, reply: FastifyReply) => {
      const labels = { method, route, status_code: String(reply.statusCode) };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
    };
    // Each route counts itself with its pattern, known when it is added (request.routeOptions builds a new object
    // on every read); answers to unknown URLs, which have no route, count under route="unmatched".
    app.addHook('onRoute', (route) => {
      const pattern = route.url;
      const count: onResponseHookHandler = (request, reply, done) => {
        observe(request.method, pattern, reply);
        done();
      };
      route.onResponse = [count, ...[route.onResponse ?? []].flat()];
    });
    app.addHook('onResponse', (request, reply, done) => {
      if (request.is404) observe(request.method, 'unmatched', reply);
      done();
    });

    app.decorate('metrics', {
      registry,
      recordPredictions(labels: readonly number[], probabilities: readonly number[]) {
        let ones = 0;
        for (const label of labels) ones += label === 1 ? 1 : 0;
        if (ones) positives.inc(ones);
        if (labels.length - ones) negatives.inc(labels.length - ones);
        for (const p of probabilities) probability.observe(p);
      },
      setModel(version: string, model: string) {
        modelInfo.reset();
        modelInfo.set({ version, model }, 1);
      },
      recordReload(result: 'success' | 'failure') {
        reloads.inc({ result });
      },
      recordSourceFailure(reason: SourceFailureReason) {
        sourceFailures.inc({ reason });
      },
      recordRefusals(rows, byFieldRule) {
        if (rows > 0) refusedRows.inc(rows);
        for (const { field, rule, rows: n } of byFieldRule) refusals.inc({ field, rule }, n);
      },
      recordLogWrite(rows, seconds) {
        logWrittenRows.inc(rows);
        logWriteDuration.observe(seconds);
      },
      recordStoreFailure(operation) {
        storeFailures.inc({ operation });
      },
      recordLogDropped(rows) {
        logDropped.inc(rows);
      },
      recordFeedback(statuses, seconds) {
        for (const status of statuses) feedback.inc({ status });
        feedbackDuration.observe(seconds);
      },
    } satisfies ApiMetrics);
  },
  { name: 'metrics' },
);
