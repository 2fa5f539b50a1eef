/**
 * A prediction batch as rows of `prediction_batches`: one row per run of predictions whose ids share a second (UUIDv7:
 * the id says when it was made), holding them as a block of bytes: fixed-size records written straight from the
 * batch's typed arrays, no text per prediction (JSON lines, the format before it, cost the writer thread ~2-3 µs a
 * prediction to format). A lookup (feedback, find) reads only the block's header and index, then the one record and
 * text it needs (`substr` in SQL), rather than a whole ~300 KB block.
 *
 * predictionBatchBlocks also runs inside the SQLite writer thread, whose code is evaluated from text (see
 * sqlite-writer.ts), so it is self-contained: no imports, no names from this module, only its parameters and
 * JavaScript's globals. The readers below run on the event loop and may use anything.
 *
 * Block layout, little-endian, n = rows, w = featureCount:
 *   header (16 bytes): u8 format (BLOCK_FORMAT) · u8 w · u8 routeCount · u8 0 · u16 versionCount · u16 0 · u32 n ·
 *     u32 receivedBytes
 *   index, n × (36 + 4): the id (ASCII) · u32 end of its received text (bytes, within `received`)
 *   records, n × (20 + 8w): f64 createdMs · f64 probability · f64[w] features (schema order, NaN = missing) ·
 *     u16 version code · u8 label · u8 route code
 *   received: the rows' JSON as received, UTF-8, back to back
 *   names: the versions (u16 byte length + UTF-8 each), then the routes (u8 byte length + UTF-8 each)
 */
import type { PredictionBatch } from './prediction-batch.js';

/** What the batch's codes mean (the writer thread gets it once, as data). */
export interface BatchLayout {
  routeNames: readonly string[];
  idChars: number;
  /** BLOCK_FORMAT and BLOCK_HEADER_BYTES, as data: the maker may not name this module's constants. */
  blockFormat: number;
  blockHeaderBytes: number;
}

/** The block format this code writes; the readers refuse any other. */
export const BLOCK_FORMAT = 1;
export const BLOCK_HEADER_BYTES = 16;

/** A row of prediction_batches: [first_id, last_id, second, created_from, created_to, row_count, block]. */
export type BatchBlockRow = [string, string, number, string, string, number, Uint8Array];

export function predictionBatchBlocks(batch: PredictionBatch, layout: BatchLayout): BatchBlockRow[] {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('prediction blocks are little-endian; this host is not');
  const { blockFormat: format, blockHeaderBytes: header, idChars } = layout;
  const width = batch.featureCount;
  const indexStride = idChars + 4;
  const recordStride = 20 + 8 * width;
  const encoder = new TextEncoder();
  const ids = new TextDecoder().decode(batch.ids);
  const versionBytes = batch.versions.map((v) => encoder.encode(v));
  const routeBytes = layout.routeNames.map((r) => encoder.encode(r));
  let namesBytes = 0;
  for (const v of versionBytes) namesBytes += 2 + v.length;
  for (const r of routeBytes) namesBytes += 1 + r.length;

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
    const out = new Uint8Array(header + n * (indexStride + recordStride) + receivedBytes + namesBytes);
    const view = new DataView(out.buffer);
    view.setUint8(0, format);
    view.setUint8(1, width);
    view.setUint8(2, routeBytes.length);
    view.setUint16(4, versionBytes.length, true);
    view.setUint32(8, n, true);
    view.setUint32(12, receivedBytes, true);
    let at = header;
    for (let i = a; i < b; i++, at += indexStride) {
      out.set(batch.ids.subarray(i * idChars, (i + 1) * idChars), at);
      view.setUint32(at + idChars, batch.receivedEnds[i]! - receivedFrom, true);
    }
    for (let i = a; i < b; i++, at += recordStride) {
      view.setFloat64(at, batch.createdMs[i]!, true);
      view.setFloat64(at + 8, batch.probabilities[i]!, true);
      for (let j = 0; j < width; j++) view.setFloat64(at + 16 + 8 * j, batch.features[i * width + j]!, true);
      view.setUint16(at + 16 + 8 * width, batch.versionIndex[i]!, true);
      view.setUint8(at + 18 + 8 * width, batch.labels[i]!);
      view.setUint8(at + 19 + 8 * width, batch.routes[i]!);
    }
    out.set(batch.received.subarray(receivedFrom, receivedFrom + receivedBytes), at);
    at += receivedBytes;
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

/** A block's header, and where its parts start (byte offsets from the block's start). */
export interface BlockShape {
  rows: number;
  width: number;
  routeCount: number;
  versionCount: number;
  receivedBytes: number;
  idChars: number;
  indexAt: number;
  indexStride: number;
  recordsAt: number;
  recordStride: number;
  receivedAt: number;
  namesAt: number;
}

const utf8 = new TextDecoder();
const viewOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The shape of a block from its first BLOCK_HEADER_BYTES bytes; refuses a format this version does not know. */
export function blockShape(header: Uint8Array, idChars: number): BlockShape {
  if (header.length < BLOCK_HEADER_BYTES)
    throw new Error(`a prediction block has at least ${BLOCK_HEADER_BYTES} bytes; this one has ${header.length}`);
  const view = viewOf(header);
  const format = view.getUint8(0);
  if (format !== BLOCK_FORMAT) throw new Error(`prediction block format ${format} is not known here (this version reads ${BLOCK_FORMAT})`);
  const rows = view.getUint32(8, true);
  const width = view.getUint8(1);
  const receivedBytes = view.getUint32(12, true);
  const indexStride = idChars + 4;
  const recordStride = 20 + 8 * width;
  const recordsAt = BLOCK_HEADER_BYTES + rows * indexStride;
  const receivedAt = recordsAt + rows * recordStride;
  return {
    rows,
    width,
    routeCount: view.getUint8(2),
    versionCount: view.getUint16(4, true),
    receivedBytes,
    idChars,
    indexAt: BLOCK_HEADER_BYTES,
    indexStride,
    recordsAt,
    recordStride,
    receivedAt,
    namesAt: receivedAt + receivedBytes,
  };
}

/** The row holding `id` in a block's index (its `rows × indexStride` bytes), or -1. */
export function indexRowOf(shape: BlockShape, index: Uint8Array, id: string): number {
  // Searched as bytes, in place: text made of the whole index (TextDecoder's latin1 goes through ICU) doubled the full
  // garbage collections under feedback at 200 req/s (18 against 9 in 10 s; 2 for JSON lines).
  const bytes = Buffer.from(index.buffer, index.byteOffset, index.byteLength);
  let at = bytes.indexOf(id, 0, 'latin1');
  while (at >= 0 && at % shape.indexStride !== 0) at = bytes.indexOf(id, at + 1, 'latin1');
  return at < 0 ? -1 : at / shape.indexStride;
}

/** Row i's received text: its byte range within the block, from the index. */
export function receivedRange(shape: BlockShape, index: Uint8Array, i: number): { at: number; bytes: number } {
  const view = viewOf(index);
  const end = (k: number) => view.getUint32(k * shape.indexStride + shape.idChars, true);
  const from = i === 0 ? 0 : end(i - 1);
  return { at: shape.receivedAt + from, bytes: end(i) - from };
}

/** The versions and routes the codes refer to, from a block's names part. */
export function blockNames(shape: BlockShape, names: Uint8Array): { versions: string[]; routes: string[] } {
  const view = viewOf(names);
  const versions: string[] = [];
  const routes: string[] = [];
  let at = 0;
  for (let k = 0; k < shape.versionCount; k++) {
    const length = view.getUint16(at, true);
    versions.push(utf8.decode(names.subarray(at + 2, at + 2 + length)));
    at += 2 + length;
  }
  for (let k = 0; k < shape.routeCount; k++) {
    const length = view.getUint8(at);
    routes.push(utf8.decode(names.subarray(at + 1, at + 1 + length)));
    at += 1 + length;
  }
  if (at !== names.length) throw new Error(`a prediction block's names take ${at} bytes, not the ${names.length} left after its rows`);
  return { versions, routes };
}

/** One prediction from its parts: its record (recordStride bytes), its received text's bytes, and the block's names. */
export function blockPrediction(
  shape: BlockShape,
  id: string,
  record: Uint8Array,
  received: Uint8Array,
  names: { versions: readonly string[]; routes: readonly string[] },
): BlockPrediction {
  const view = viewOf(record);
  const w = shape.width;
  const features: number[] = [];
  for (let j = 0; j < w; j++) features.push(view.getFloat64(16 + 8 * j, true));
  return {
    id,
    createdMs: view.getFloat64(0, true),
    modelVersion: names.versions[view.getUint16(16 + 8 * w, true)]!,
    route: names.routes[view.getUint8(19 + 8 * w)]!,
    receivedJson: utf8.decode(received),
    features,
    probability: view.getFloat64(8, true),
    label: view.getUint8(18 + 8 * w) === 1 ? 1 : 0,
  };
}

/** Reads a whole block (retention, tests); refuses a format it does not know, and a block whose sizes do not add up. */
export class BatchBlockReader {
  readonly shape: BlockShape;
  private readonly index: Uint8Array;
  private readonly names: { versions: string[]; routes: string[] };

  constructor(
    private readonly bytes: Uint8Array,
    idChars: number,
  ) {
    this.shape = blockShape(bytes, idChars);
    const s = this.shape;
    if (s.namesAt > bytes.length)
      throw new Error(`a prediction block of ${s.rows} rows has more than ${s.namesAt} bytes; this one has ${bytes.length}`);
    this.index = bytes.subarray(s.indexAt, s.recordsAt);
    this.names = blockNames(s, bytes.subarray(s.namesAt));
  }

  get rows(): number {
    return this.shape.rows;
  }

  /** Row i's id. */
  id(i: number): string {
    const at = this.index.byteOffset + i * this.shape.indexStride;
    return Buffer.from(this.index.buffer, at, this.shape.idChars).toString('latin1');
  }

  /** The row holding `id`, or -1. */
  indexOf(id: string): number {
    return indexRowOf(this.shape, this.index, id);
  }

  createdMs(i: number): number {
    return viewOf(this.bytes).getFloat64(this.shape.recordsAt + i * this.shape.recordStride, true);
  }

  prediction(i: number): BlockPrediction {
    const s = this.shape;
    const record = this.bytes.subarray(s.recordsAt + i * s.recordStride, s.recordsAt + (i + 1) * s.recordStride);
    const received = receivedRange(s, this.index, i);
    return blockPrediction(s, this.id(i), record, this.bytes.subarray(received.at, received.at + received.bytes), this.names);
  }
}
