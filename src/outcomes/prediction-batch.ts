/**
 * Predictions waiting for the log, held column by column in typed arrays: one batch is a dozen buffers, whatever its
 * row count, and no object per prediction. Queued predictions used to be objects (an id string, a features array, the
 * request's text) that lived for up to a flush interval: the young-generation collector copied every one of them,
 * twice its pause without the log (2.4 against 1.2 ms), and then promoted them. Here the rows live outside the JS heap,
 * and a batch goes to the SQLite writer thread in shared memory; its blocks (batch-block.ts) are made there.
 */
import { FEATURE_NAMES } from '../features/feature-schema.js';
import { BLOCK_FORMAT, BLOCK_HEADER_BYTES, type BatchLayout } from './batch-block.js';
import type { PredictionRecord, PredictionRoute } from './store.js';

/** A UUID's text: 36 ASCII characters. */
export const PREDICTION_ID_CHARS = 36;
/** Routes by code, in the `routes` column. */
export const PREDICTION_ROUTES: readonly PredictionRoute[] = ['predict', 'v2'];
/** What a batch's codes mean: given to predictionBatchBlocks, on this thread or the writer's. */
export const BATCH_LAYOUT: BatchLayout = {
  routeNames: PREDICTION_ROUTES,
  idChars: PREDICTION_ID_CHARS,
  blockFormat: BLOCK_FORMAT,
  blockHeaderBytes: BLOCK_HEADER_BYTES,
};
/** Bytes set aside per row for the received JSON before the buffer grows (a single patient is ~250 bytes). */
const RECEIVED_BYTES_PER_ROW = 320;

/** Plain data: typed arrays (over shared memory where available) and strings, for postMessage. */
export interface PredictionBatch {
  rows: number;
  featureCount: number;
  /** Row i's id: bytes [i*36, i*36+36), ASCII. */
  ids: Uint8Array;
  /** Milliseconds since the epoch. */
  createdMs: Float64Array;
  /** Row i's features: [i*featureCount, (i+1)*featureCount), schema order, NaN = missing (imputed). */
  features: Float64Array;
  probabilities: Float64Array;
  labels: Uint8Array;
  /** Index into PREDICTION_ROUTES. */
  routes: Uint8Array;
  /** Index into `versions`. */
  versionIndex: Uint16Array;
  versions: string[];
  /** The rows' JSON as received, UTF-8, back to back: row i is bytes [receivedEnds[i-1] ?? 0, receivedEnds[i]). */
  received: Uint8Array;
  receivedEnds: Uint32Array;
}

const encoder = new TextEncoder();

/**
 * Memory the writer thread reads in place: a batch sent with postMessage shares it rather than copying it (no
 * serialisation per batch on the event loop), and a builder is refilled once its batch is written (no allocation per
 * batch). Plain memory where SharedArrayBuffer is unavailable.
 */
const sharedBytes = (bytes: number): ArrayBuffer | SharedArrayBuffer =>
  typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);

/** Fills one batch of at most `capacity` rows; `seal()` hands it over, `reset()` makes the builder reusable. */
export class PredictionBatchBuilder {
  private count = 0;
  private readonly ids: Uint8Array;
  private readonly createdMs: Float64Array;
  private readonly features: Float64Array;
  private readonly probabilities: Float64Array;
  private readonly labels: Uint8Array;
  private readonly routes: Uint8Array;
  private readonly versionIndex: Uint16Array;
  private versions: string[] = [];
  private received: Uint8Array;
  private receivedBytes = 0;
  private readonly receivedEnds: Uint32Array;

  private readonly featureCount = FEATURE_NAMES.length;

  constructor(readonly capacity: number) {
    this.ids = new Uint8Array(sharedBytes(capacity * PREDICTION_ID_CHARS));
    this.createdMs = new Float64Array(sharedBytes(capacity * 8));
    this.features = new Float64Array(sharedBytes(capacity * this.featureCount * 8));
    this.probabilities = new Float64Array(sharedBytes(capacity * 8));
    this.labels = new Uint8Array(sharedBytes(capacity));
    this.routes = new Uint8Array(sharedBytes(capacity));
    this.versionIndex = new Uint16Array(sharedBytes(capacity * 2));
    this.received = new Uint8Array(sharedBytes(capacity * RECEIVED_BYTES_PER_ROW));
    this.receivedEnds = new Uint32Array(sharedBytes(capacity * 4));
  }

  get rows(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /**
   * Add one prediction (arguments, not an object: this runs once per prediction on the request path). `features`
   * in schema order, NaN = missing; `receivedJson` is the row as received, as JSON text.
   */
  add(
    id: string,
    createdMs: number,
    modelVersion: string,
    route: PredictionRoute,
    receivedJson: string,
    features: ArrayLike<number>,
    probability: number,
    label: 0 | 1,
  ): void {
    const i = this.count;
    if (i === this.capacity) throw new RangeError('the prediction batch is full');
    if (id.length !== PREDICTION_ID_CHARS) throw new RangeError(`a prediction id has ${PREDICTION_ID_CHARS} characters`);
    encoder.encodeInto(id, this.ids.subarray(i * PREDICTION_ID_CHARS, (i + 1) * PREDICTION_ID_CHARS));
    this.createdMs[i] = createdMs;
    const base = i * this.featureCount;
    for (let j = 0; j < this.featureCount; j++) this.features[base + j] = features[j]!;
    this.probabilities[i] = probability;
    this.labels[i] = label;
    this.routes[i] = PREDICTION_ROUTES.indexOf(route);
    this.versionIndex[i] = this.versionCode(modelVersion);
    this.appendReceived(receivedJson);
    this.receivedEnds[i] = this.receivedBytes;
    this.count = i + 1;
  }

  private versionCode(version: string): number {
    const last = this.versions.length - 1;
    if (last >= 0 && this.versions[last] === version) return last;
    const known = this.versions.indexOf(version);
    if (known >= 0) return known;
    this.versions.push(version);
    return last + 1;
  }

  private appendReceived(text: string): void {
    for (;;) {
      const { read, written } = encoder.encodeInto(text, this.received.subarray(this.receivedBytes));
      if (read === text.length) {
        this.receivedBytes += written;
        return;
      }
      // Too small: at least double, and always room for the whole text (at most 3 bytes a UTF-16 unit).
      const grown = new Uint8Array(sharedBytes(Math.max(this.received.length * 2, this.receivedBytes + text.length * 3)));
      grown.set(this.received.subarray(0, this.receivedBytes));
      this.received = grown;
    }
  }

  /** Empty again, to be refilled (its last batch written: the batch's views now see the new rows). */
  reset(): void {
    this.count = 0;
    this.versions = [];
    this.receivedBytes = 0;
  }

  /** The rows added, as a batch (views of this builder's buffers, valid until `reset`). */
  seal(): PredictionBatch {
    const n = this.count;
    return {
      rows: n,
      featureCount: this.featureCount,
      ids: this.ids.subarray(0, n * PREDICTION_ID_CHARS),
      createdMs: this.createdMs.subarray(0, n),
      features: this.features.subarray(0, n * this.featureCount),
      probabilities: this.probabilities.subarray(0, n),
      labels: this.labels.subarray(0, n),
      routes: this.routes.subarray(0, n),
      versionIndex: this.versionIndex.subarray(0, n),
      versions: this.versions,
      received: this.received.subarray(0, this.receivedBytes),
      receivedEnds: this.receivedEnds.subarray(0, n),
    };
  }
}

/** Records as one batch (tests, and anything that has records rather than a request path). */
export function predictionBatchOf(records: readonly PredictionRecord[]): PredictionBatch {
  const builder = new PredictionBatchBuilder(Math.max(1, records.length));
  for (const r of records) {
    const createdMs = Date.parse(r.createdAt);
    if (new Date(createdMs).toISOString() !== r.createdAt) throw new RangeError(`createdAt is not ISO 8601 UTC: ${r.createdAt}`);
    builder.add(
      r.id,
      createdMs,
      r.modelVersion,
      r.route,
      r.receivedJson ?? JSON.stringify(r.received ?? null),
      r.features.map((v) => v ?? Number.NaN),
      r.probability,
      r.label,
    );
  }
  return builder.seal();
}
