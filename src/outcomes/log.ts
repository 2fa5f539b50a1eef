/**
 * The write side of the prediction log as serving uses it: predictions are queued in memory and written in batches
 * off the request path (every `flushMs`, or at once when `batchRows` are waiting), and on demand (drain, model
 * reload, feedback for an id still queued). A failing store never fails a prediction: the batch stays queued and is
 * retried at the next flush; beyond `maxQueuedRows` the oldest are dropped. Every outcome is reported to `events`
 * (metrics and logs, without patient data).
 */
import type { PredictionRecord, PredictionStore } from './store.js';

export interface PredictionLogOptions {
  flushMs: number;
  batchRows: number;
  maxQueuedRows: number;
}

export interface PredictionLogEvents {
  written?: (rows: number, seconds: number) => void;
  failed?: (error: Error, rows: number) => void;
  dropped?: (rows: number) => void;
}

export class PredictionLog {
  private queue: PredictionRecord[] = [];
  private writing: Promise<void> | null = null;
  /** Rows of the write under way. */
  private writingRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly store: PredictionStore,
    private readonly options: PredictionLogOptions,
    private readonly events: PredictionLogEvents = {},
  ) {}

  /** The longest a prediction waits in the queue before its batch is written (PREDICTION_LOG_FLUSH_MS). */
  get flushMs(): number {
    return this.options.flushMs;
  }

  /** Predictions not yet written: queued, or in the write under way. */
  get queued(): number {
    return this.queue.length + this.writingRows;
  }

  /** Queue predictions for the store; returns at once. */
  record(records: readonly PredictionRecord[]): void {
    for (const r of records) this.queue.push(r);
    if (this.queue.length > this.options.maxQueuedRows) {
      const excess = this.queue.length - this.options.maxQueuedRows;
      this.queue.splice(0, excess);
      this.events.dropped?.(excess);
    }
    if (this.closed) return;
    if (this.queue.length >= this.options.batchRows) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /**
   * Write everything queued before this call. Resolves when done, or when a write failed (the rows stay queued);
   * never rejects.
   */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // One write at a time, in order; a flush during a write waits for it, then writes what came meanwhile.
    while (this.writing) await this.writing;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const started = performance.now();
    this.writingRows = batch.length;
    this.writing = this.store.append(batch).then(
      () => this.events.written?.(batch.length, (performance.now() - started) / 1000),
      (error: unknown) => {
        // Back to the front of the queue, for the next flush.
        this.queue = batch.concat(this.queue);
        this.events.failed?.(error instanceof Error ? error : new Error(String(error)), batch.length);
        if (!this.closed) this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
      },
    );
    try {
      await this.writing;
    } finally {
      this.writing = null;
      this.writingRows = 0;
    }
  }

  /** Flush and close the store (drain). Rows that still cannot be written are lost and counted as dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.queue.length > 0) {
      this.events.dropped?.(this.queue.length);
      this.queue = [];
    }
    await this.store.close();
  }
}
