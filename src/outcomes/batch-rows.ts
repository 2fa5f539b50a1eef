/**
 * A prediction batch as the SQL rows of the predictions table. This function also runs inside the SQLite writer
 * thread, whose code is evaluated from text (see sqlite-writer.ts), so it is self-contained: no imports, no names
 * from this module, only its parameters and JavaScript's globals. The types are those of prediction-batch.ts.
 */
import type { PredictionBatch } from './prediction-batch.js';

/** What the batch's codes mean (the writer thread gets it once, as data). */
export interface BatchLayout {
  featureNames: readonly string[];
  routeNames: readonly string[];
  idChars: number;
}

/**
 * Row i: [id, created_at, model_version, route, received, features, imputed, probability, label], the order of
 * INSERT_PREDICTION's columns. Features as JSON (NaN → null); imputed: the names of the missing features, as JSON.
 */
export function predictionSqlRows(
  batch: PredictionBatch,
  layout: BatchLayout,
): (string | number)[][] {
  const { featureNames, routeNames, idChars } = layout;
  // One decode per buffer, then slices: a TextDecoder call per field cost ~1 µs here.
  const decoder = new TextDecoder();
  const ids = decoder.decode(batch.ids);
  const received = decoder.decode(batch.received);
  const out: (string | number)[][] = [];
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
    let features = '[';
    let imputed = '';
    for (let j = 0; j < width; j++) {
      const value = batch.features[i * width + j]!;
      if (j > 0) features += ',';
      if (Number.isNaN(value)) {
        features += 'null';
        imputed += (imputed === '' ? '"' : ',"') + featureNames[j] + '"';
      } else features += String(value); // a finite number's JSON text
    }
    const receivedEnd = batch.receivedEnds[i]!;
    out.push([
      ids.slice(i * idChars, (i + 1) * idChars),
      isoText,
      batch.versions[batch.versionIndex[i]!]!,
      routeNames[batch.routes[i]!]!,
      received.slice(receivedStart, receivedEnd),
      features + ']',
      '[' + imputed + ']',
      batch.probabilities[i]!,
      batch.labels[i]!,
    ]);
    receivedStart = receivedEnd;
  }
  return out;
}


