/**
 * The write side of the prediction log as serving uses it: predictions are queued in memory and written in batches
 * off the request path (every `flushMs`, or at once when `batchRows` are waiting), and on demand (drain, model
 * reload, feedback for an id still queued). A failing store never fails a prediction: the batch stays queued and is
 * retried at the next flush; beyond `maxQueuedRows` the oldest batches are dropped. Queued predictions are held in
 * typed arrays (prediction-batch.ts), not as objects. Every outcome is reported to `events`
 * (metrics and logs, without patient data).
 */
import { PredictionBatchBuilder, type PredictionBatch } from './prediction-batch.js';
import type { PredictionRoute, PredictionStore } from './store.js';

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

/** Builders kept for reuse once their batch is written (more are made while the store is behind). */
const SPARE_BUILDERS = 4;

interface Sealed {
  batch: PredictionBatch;
  builder: PredictionBatchBuilder;
}

export class PredictionLog {
  /** Full batches, oldest first. */
  private sealed: Sealed[] = [];
  private sealedRows = 0;
  private filling: PredictionBatchBuilder;
  private readonly spare: PredictionBatchBuilder[] = [];
  private writing: Promise<void> | null = null;
  /** Rows of the write under way. */
  private writingRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly store: PredictionStore,
    private readonly options: PredictionLogOptions,
    private readonly events: PredictionLogEvents = {},
  ) {
    this.filling = this.newBuilder();
  }

  /** The longest a prediction waits in the queue before its batch is written (PREDICTION_LOG_FLUSH_MS). */
  get flushMs(): number {
    return this.options.flushMs;
  }

  /** Predictions not yet written: queued, or in the write under way. */
  get queued(): number {
    return this.sealedRows + this.filling.rows + this.writingRows;
  }

  private newBuilder(): PredictionBatchBuilder {
    return this.spare.pop() ?? new PredictionBatchBuilder(Math.min(this.options.batchRows, this.options.maxQueuedRows));
  }

  private release(done: readonly Sealed[]): void {
    for (const { builder } of done) {
      if (this.spare.length >= SPARE_BUILDERS) continue;
      builder.reset();
      this.spare.push(builder);
    }
  }

  private seal(): void {
    this.sealed.push({ batch: this.filling.seal(), builder: this.filling });
    this.sealedRows += this.filling.rows;
    this.filling = this.newBuilder();
  }

  /**
   * Queue one prediction for the store; returns at once. Arguments as PredictionBatchBuilder#add's: no object per
   * prediction on the request path.
   */
  record(
    id: string,
    createdMs: number,
    modelVersion: string,
    route: PredictionRoute,
    receivedJson: string,
    features: ArrayLike<number>,
    probability: number,
    label: 0 | 1,
  ): void {
    this.filling.add(id, createdMs, modelVersion, route, receivedJson, features, probability, label);
    if (this.filling.full) {
      this.seal();
      this.dropBeyondLimit();
      if (!this.closed) void this.flush();
    } else if (!this.closed) this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /** Beyond maxQueuedRows (the store failing for long), the oldest whole batches go. */
  private dropBeyondLimit(): void {
    let excess = 0;
    while (this.sealedRows + this.filling.rows > this.options.maxQueuedRows && this.sealed.length > 0) {
      const oldest = this.sealed.shift()!;
      this.sealedRows -= oldest.batch.rows;
      excess += oldest.batch.rows;
      this.release([oldest]);
    }
    if (excess > 0) this.events.dropped?.(excess);
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
    if (this.filling.rows > 0) this.seal();
    if (this.sealedRows === 0) return;
    const taken = this.sealed;
    const rows = this.sealedRows;
    this.sealed = [];
    this.sealedRows = 0;
    const started = performance.now();
    this.writingRows = rows;
    this.writing = this.store.append(taken.map((s) => s.batch)).then(
      () => {
        this.release(taken);
        this.events.written?.(rows, (performance.now() - started) / 1000);
      },
      (error: unknown) => {
        // Back to the front of the queue, for the next flush.
        this.sealed = taken.concat(this.sealed);
        this.sealedRows += rows;
        this.events.failed?.(error instanceof Error ? error : new Error(String(error)), rows);
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
    if (this.sealedRows > 0) {
      this.events.dropped?.(this.sealedRows);
      this.sealed = [];
      this.sealedRows = 0;
    }
    await this.store.close();
  }
}
