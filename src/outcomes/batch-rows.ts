/**
 * A prediction batch as rows of `prediction_batches`: one row per second of the predictions' ids (UUIDv7: the id says
 * when it was made), holding their text one prediction per line. This function also runs inside the SQLite writer
 * thread, whose code is evaluated from text (see sqlite-writer.ts), so it is self-contained: no imports, no names from
 * this module, only its parameters and JavaScript's globals. The types are those of prediction-batch.ts.
 */
import type { PredictionBatch } from './prediction-batch.js';

/** What the batch's codes mean (the writer thread gets it once, as data). */
export interface BatchLayout {
  featureNames: readonly string[];
  routeNames: readonly string[];
  idChars: number;
}

/**
 * Rows [first_id, last_id, second, created_from, created_to, row_count, predictions]: `second` is the ids' second
 * (their first 48 bits are milliseconds), `predictions` one JSON array per line, in the order of the predictions
 * table's columns: [id, created_at, model_version, route, received, features, imputed, probability, label]. Received
 * is the JSON text as it came; features JSON numbers, null where missing; imputed the missing features' names.
 */
export function predictionBatchRows(batch: PredictionBatch, layout: BatchLayout): (string | number)[][] {
  const { featureNames, routeNames, idChars } = layout;
  // One decode per buffer, then slices: a TextDecoder call per field cost ~1 µs here.
  const decoder = new TextDecoder();
  const ids = decoder.decode(batch.ids);
  const received = decoder.decode(batch.received);
  const versions = batch.versions.map((v) => JSON.stringify(v));
  const groups = new Map<number, { first: string; last: string; from: number; to: number; count: number; lines: string[] }>();
  let isoMs = Number.NaN;
  let isoText = '';
  let receivedStart = 0;
  const width = batch.featureCount;
  for (let i = 0; i < batch.rows; i++) {
    const ms = batch.createdMs[i]!;
    if (ms !== isoMs) {
      isoMs = ms;
      isoText = new Date(ms).toISOString();
    }
    const id = ids.slice(i * idChars, (i + 1) * idChars);
    let features = '[';
    let imputed = '[';
    for (let j = 0; j < width; j++) {
      const value = batch.features[i * width + j]!;
      if (j > 0) features += ',';
      if (Number.isNaN(value)) {
        features += 'null';
        imputed += (imputed === '[' ? '"' : ',"') + featureNames[j] + '"';
      } else features += String(value); // a finite number's JSON text
    }
    const receivedEnd = batch.receivedEnds[i]!;
    let receivedText = received.slice(receivedStart, receivedEnd);
    // One line per prediction: a raw line break in valid JSON text is whitespace between tokens, so a space is the same.
    if (receivedText.includes('\n') || receivedText.includes('\r')) receivedText = receivedText.replace(/[\r\n]/g, ' ');
    const line =
      '["' +
      id +
      '","' +
      isoText +
      '",' +
      versions[batch.versionIndex[i]!] +
      ',"' +
      routeNames[batch.routes[i]!] +
      '",' +
      receivedText +
      ',' +
      features +
      '],' +
      imputed +
      '],' +
      String(batch.probabilities[i]) +
      ',' +
      String(batch.labels[i]) +
      ']';
    receivedStart = receivedEnd;
    const second = Math.floor(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16) / 1000);
    const group = groups.get(second);
    if (!group) groups.set(second, { first: id, last: id, from: ms, to: ms, count: 1, lines: [line] });
    else {
      if (id < group.first) group.first = id;
      if (id > group.last) group.last = id;
      if (ms < group.from) group.from = ms;
      if (ms > group.to) group.to = ms;
      group.count++;
      group.lines.push(line);
    }
  }
  const rows: (string | number)[][] = [];
  for (const [second, g] of groups)
    rows.push([g.first, g.last, second, new Date(g.from).toISOString(), new Date(g.to).toISOString(), g.count, g.lines.join('\n')]);
  return rows;
}
