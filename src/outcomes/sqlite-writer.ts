/**
 * The SQLite prediction log's writer thread: appends run on their own connection in a worker, so the inserts and
 * the WAL checkpoints (which wait for the disk) never hold up the event loop that answers requests. node:sqlite is
 * synchronous; on the main thread a 1,000-row batch and a checkpoint's fsync block every request meanwhile.
 */
import { Worker } from 'node:worker_threads';
import { predictionBatchBlocks } from './batch-block.js';
import { BATCH_LAYOUT, type PredictionBatch } from './prediction-batch.js';
import type { SqlValue } from './sql.js';

/** The writer thread's niceness (0 = the event loop's; 19 = the lowest priority). */
export const WRITER_NICENESS = 10;

/**
 * The worker's code: plain JavaScript, evaluated (`eval: true`), so the image's single-file server bundle needs no
 * second entry point. One message = one transaction: `rows` of SQL values, or prediction `batches` (in memory shared
 * with the event loop) whose rows are made here by predictionBatchBlocks: its compiled text is part of this source, and
 * `__name` is the helper some compilers call to keep function names.
 */
const WRITER_SOURCE = `
var __name = (target) => target;
const predictionBatchBlocks = ${predictionBatchBlocks.toString()};
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
// Background work: this thread runs at a lower priority (nice 10) than the event loop, so under full load its
// inserts wait rather than take the CPU from answering requests. Linux sets niceness per thread (its id is in
// /proc/thread-self); raising one's own niceness needs no privilege. Elsewhere it keeps the process's priority.
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) require('node:os').setPriority(tid, workerData.niceness);
} catch {}
const db = new DatabaseSync(workerData.file);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = NORMAL');
db.exec('PRAGMA busy_timeout = 5000');
const statements = new Map();
parentPort.on('message', (message) => {
  if (message.close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    let statement = statements.get(message.sql);
    if (!statement) statements.set(message.sql, (statement = db.prepare(message.sql)));
    db.exec('BEGIN IMMEDIATE');
    try {
      if (message.rows) for (const row of message.rows) statement.run(...row);
      else for (const batch of message.batches) for (const row of predictionBatchBlocks(batch, workerData.layout)) statement.run(...row);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
    parentPort.postMessage({ id: message.id });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String((error && error.message) || error) });
  }
});
`;

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class SqliteWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private readonly exited: Promise<void>;

  constructor(file: string) {
    // No loader in the worker (the parent may run under tsx): its code is plain JavaScript.
    this.worker = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: { file, niceness: WRITER_NICENESS, layout: BATCH_LAYOUT },
      execArgv: [],
    });
    this.worker.on('message', (message: { id: number; error?: string }) => {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error === undefined) waiting?.resolve();
      else waiting?.reject(new Error(message.error));
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        fail(new Error('the prediction log writer thread has exited'));
        resolve();
      }),
    );
  }

  /** Run `sql` (SQLite placeholders) once per row, in one transaction on the writer's connection. */
  insert(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, sql, rows });
    });
  }

  /**
   * Insert prediction batches with `sql` (the batch-row insert), in one transaction; their rows are made on the
   * writer thread, which reads the batches' shared memory in place (nothing is copied here).
   */
  insertBatches(sql: string, batches: readonly PredictionBatch[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, sql, batches });
    });
  }

  /** Close after the writes already sent. */
  async close(): Promise<void> {
    if (!this.failure) this.worker.postMessage({ close: true });
    await this.exited;
  }
}
