/**
 * A prediction batch as rows of `prediction_batches`: one row per run of predictions whose ids share a second (UUIDv7:
 * the id says when it was made), holding them as a block: the batch's typed arrays for those rows, copied byte for
 * byte, behind a small header. Making a block is a few memory copies per row run, with no text per prediction (JSON
 * lines, the format before it, cost the writer thread ~2-3 µs a prediction to format); reading one (feedback,
 * lookups, retention) decodes only the rows asked for.
 *
 * predictionBatchBlocks also runs inside the SQLite writer thread, whose code is evaluated from text (see
 * sqlite-writer.ts), so it is self-contained: no imports, no names from this module, only its parameters and
 * JavaScript's globals. The reader below runs on the event loop and may use anything.
 *
 * Block layout, little-endian (the typed arrays are copied as they lie in memory; the maker refuses a big-endian host):
 *   0 u8 format (BLOCK_FORMAT) · 1 u8 featureCount · 2 u8 routeCount · 3 u8 0 · 4 u16 versionCount · 6 u16 0 ·
 *   8 u32 rows · 12 u32 receivedBytes · 16 versions (u16 byte length + UTF-8 each) · routes (u8 byte length + UTF-8
 *   each) · then, n = rows: createdMs f64[n] · probabilities f64[n] · features f64[n × featureCount] (schema order,
 *   NaN = missing) · receivedEnds u32[n] (byte ends within received) · versionIndex u16[n] · labels u8[n] ·
 *   routes u8[n] · ids (36 ASCII bytes each) · received (the rows' JSON as received, UTF-8, back to back).
 */
import type { PredictionBatch } from './prediction-batch.js';

/** What the batch's codes mean (the writer thread gets it once, as data). */
export interface BatchLayout {
  featureNames: readonly string[];
  routeNames: readonly string[];
  idChars: number;
  /** BLOCK_FORMAT and BLOCK_HEADER_BYTES, as data: the maker may not name this module's constants. */
  blockFormat: number;
  blockHeaderBytes: number;
}

/** The block format this code writes; the reader refuses any other. */
export const BLOCK_FORMAT = 1;
export const BLOCK_HEADER_BYTES = 16;

/** A row of prediction_batches: [first_id, last_id, second, created_from, created_to, row_count, block]. */
export type BatchBlockRow = [string, string, number, string, string, number, Uint8Array];

export function predictionBatchBlocks(batch: PredictionBatch, layout: BatchLayout): BatchBlockRow[] {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('prediction blocks are little-endian; this host is not');
  const { blockFormat: format, blockHeaderBytes: header } = layout;
  const idChars = layout.idChars;
  const width = batch.featureCount;
  const encoder = new TextEncoder();
  const ids = new TextDecoder().decode(batch.ids);
  const versionBytes = batch.versions.map((v) => encoder.encode(v));
  const routeBytes = layout.routeNames.map((r) => encoder.encode(r));
  let namesBytes = 0;
  for (const v of versionBytes) namesBytes += 2 + v.length;
  for (const r of routeBytes) namesBytes += 1 + r.length;
  const bytesOf = (array: ArrayBufferView, from: number, count: number, size: number) =>
    new Uint8Array(array.buffer, array.byteOffset + from * size, count * size);

  // The second an id was made in: its first 48 bits are milliseconds (hex digits 0-7 and 9-12 of its text).
  const idSecond = (i: number): number => {
    let ms = 0;
    for (let k = i * idChars; k < i * idChars + 13; k++) {
      if (k === i * idChars + 8) continue;
      const c = batch.ids[k]!;
      ms = ms * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
    }
    return Math.floor(ms / 1000);
  };

  const block = (a: number, b: number, second: number): BatchBlockRow => {
    const n = b - a;
    const receivedFrom = a === 0 ? 0 : batch.receivedEnds[a - 1]!;
    const receivedBytes = batch.receivedEnds[b - 1]! - receivedFrom;
    const out = new Uint8Array(header + namesBytes + n * (8 + 8 + 8 * width + 4 + 2 + 1 + 1 + idChars) + receivedBytes);
    const view = new DataView(out.buffer);
    view.setUint8(0, format);
    view.setUint8(1, width);
    view.setUint8(2, routeBytes.length);
    view.setUint16(4, versionBytes.length, true);
    view.setUint32(8, n, true);
    view.setUint32(12, receivedBytes, true);
    let at = header;
    for (const v of versionBytes) {
      view.setUint16(at, v.length, true);
      out.set(v, at + 2);
      at += 2 + v.length;
    }
    for (const r of routeBytes) {
      view.setUint8(at, r.length);
      out.set(r, at + 1);
      at += 1 + r.length;
    }
    const copy = (array: ArrayBufferView, from: number, count: number, size: number) => {
      out.set(bytesOf(array, from, count, size), at);
      at += count * size;
    };
    copy(batch.createdMs, a, n, 8);
    copy(batch.probabilities, a, n, 8);
    copy(batch.features, a * width, n * width, 8);
    for (let i = a; i < b; i++, at += 4) view.setUint32(at, batch.receivedEnds[i]! - receivedFrom, true);
    copy(batch.versionIndex, a, n, 2);
    copy(batch.labels, a, n, 1);
    copy(batch.routes, a, n, 1);
    copy(batch.ids, a * idChars, n * idChars, 1);
    out.set(batch.received.subarray(receivedFrom, receivedFrom + receivedBytes), at);

    let first = ids.slice(a * idChars, (a + 1) * idChars);
    let last = first;
    let from = batch.createdMs[a]!;
    let to = from;
    for (let i = a + 1; i < b; i++) {
      const id = ids.slice(i * idChars, (i + 1) * idChars);
      if (id < first) first = id;
      if (id > last) last = id;
      const ms = batch.createdMs[i]!;
      if (ms < from) from = ms;
      if (ms > to) to = ms;
    }
    return [first, last, second, new Date(from).toISOString(), new Date(to).toISOString(), n, out];
  };

  const rows: BatchBlockRow[] = [];
  // Runs of rows whose ids share a second: one block each (ids are made in time order, so a batch is a run or a few).
  for (let start = 0; start < batch.rows;) {
    const second = idSecond(start);
    let end = start + 1;
    while (end < batch.rows && idSecond(end) === second) end++;
    rows.push(block(start, end, second));
    start = end;
  }
  return rows;
}

/** One prediction read back from a block. */
export interface BlockPrediction {
  id: string;
  createdMs: number;
  modelVersion: string;
  route: string;
  /** The JSON text as received. */
  receivedJson: string;
  /** Schema order, NaN = missing (imputed). */
  features: number[];
  probability: number;
  label: 0 | 1;
}

const decoder = new TextDecoder();

/** Reads a stored block; refuses a format it does not know, and a block whose sizes do not add up. */
export class BatchBlockReader {
  readonly rows: number;
  private readonly view: DataView;
  private readonly width: number;
  private readonly versions: string[] = [];
  private readonly routes: string[] = [];
  private readonly at: Record<
    'createdMs' | 'probabilities' | 'features' | 'receivedEnds' | 'versionIndex' | 'labels' | 'routes' | 'ids' | 'received',
    number
  >;
  private idText: string | null = null;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly idChars: number,
  ) {
    if (bytes.length < BLOCK_HEADER_BYTES)
      throw new Error(`a prediction block has at least ${BLOCK_HEADER_BYTES} bytes; this one has ${bytes.length}`);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const format = this.view.getUint8(0);
    if (format !== BLOCK_FORMAT)
      throw new Error(`prediction block format ${format} is not known here (this version reads ${BLOCK_FORMAT})`);
    this.width = this.view.getUint8(1);
    const routeCount = this.view.getUint8(2);
    const versionCount = this.view.getUint16(4, true);
    const n = (this.rows = this.view.getUint32(8, true));
    const receivedBytes = this.view.getUint32(12, true);
    let at = BLOCK_HEADER_BYTES;
    for (let k = 0; k < versionCount; k++) {
      const length = this.view.getUint16(at, true);
      this.versions.push(decoder.decode(bytes.subarray(at + 2, at + 2 + length)));
      at += 2 + length;
    }
    for (let k = 0; k < routeCount; k++) {
      const length = this.view.getUint8(at);
      this.routes.push(decoder.decode(bytes.subarray(at + 1, at + 1 + length)));
      at += 1 + length;
    }
    const next = (size: number) => ((at += size), at - size);
    this.at = {
      createdMs: next(8 * n),
      probabilities: next(8 * n),
      features: next(8 * n * this.width),
      receivedEnds: next(4 * n),
      versionIndex: next(2 * n),
      labels: next(n),
      routes: next(n),
      ids: next(idChars * n),
      received: next(receivedBytes),
    };
    if (at !== bytes.length) throw new Error(`a prediction block of ${n} rows should have ${at} bytes; this one has ${bytes.length}`);
  }

  /** Row i's id. */
  id(i: number): string {
    this.idText ??= decoder.decode(this.bytes.subarray(this.at.ids, this.at.ids + this.idChars * this.rows));
    return this.idText.slice(i * this.idChars, (i + 1) * this.idChars);
  }

  /** The row holding `id`, or -1. */
  indexOf(id: string): number {
    if (this.rows === 0) return -1;
    this.id(0);
    let at = this.idText!.indexOf(id);
    while (at >= 0 && at % this.idChars !== 0) at = this.idText!.indexOf(id, at + 1);
    return at < 0 ? -1 : at / this.idChars;
  }

  createdMs(i: number): number {
    return this.view.getFloat64(this.at.createdMs + 8 * i, true);
  }

  prediction(i: number): BlockPrediction {
    const v = this.view;
    const from = i === 0 ? 0 : v.getUint32(this.at.receivedEnds + 4 * (i - 1), true);
    const to = v.getUint32(this.at.receivedEnds + 4 * i, true);
    const features: number[] = [];
    for (let j = 0; j < this.width; j++) features.push(v.getFloat64(this.at.features + 8 * (i * this.width + j), true));
    return {
      id: this.id(i),
      createdMs: this.createdMs(i),
      modelVersion: this.versions[v.getUint16(this.at.versionIndex + 2 * i, true)]!,
      route: this.routes[v.getUint8(this.at.routes + i)]!,
      receivedJson: decoder.decode(this.bytes.subarray(this.at.received + from, this.at.received + to)),
      features,
      probability: v.getFloat64(this.at.probabilities + 8 * i, true),
      label: v.getUint8(this.at.labels + i) === 1 ? 1 : 0,
    };
  }
}
