/**
 * The labelled rows a retraining reads: the `--labelled` files when given, else the API's prediction log — the same
 * database the API writes, named by the same settings (DATABASE_URL for PostgreSQL, else the SQLite file
 * PREDICTION_LOG_PATH; src/api/config.ts).
 */
import { existsSync } from 'node:fs';
import type { Feature } from '../features/feature-schema.js';
import { DEFAULT_PREDICTION_LOG_PATH, openPredictionStore } from '../outcomes/open-store.js';
import { fileSource, type LabelledSource } from './labelled-source.js';

export async function openLabelledSource(input: {
  files: readonly string[];
  env: NodeJS.ProcessEnv;
  features: readonly Feature[];
}): Promise<LabelledSource> {
  if (input.files.length > 0) return fileSource(input.files, input.features);
  const databaseUrl = input.env.DATABASE_URL?.trim() || null;
  const sqlitePath = input.env.PREDICTION_LOG_PATH?.trim() || DEFAULT_PREDICTION_LOG_PATH;
  // Reading must not create an empty log where the API never wrote one: that would hide a wrong path.
  if (!databaseUrl && !existsSync(sqlitePath)) {
    throw new Error(
      `no prediction log at ${sqlitePath} (PREDICTION_LOG_PATH); set it or DATABASE_URL to the API's, or pass --labelled <file>`,
    );
  }
  const store = await openPredictionStore({ databaseUrl, sqlitePath });
  const width = input.features.length;
  return {
    name: databaseUrl ? 'the prediction log (PostgreSQL)' : `the prediction log (${sqlitePath})`,
    rows: async () =>
      (await store.labelled()).map((p) => {
        if (p.features.length !== width) throw new Error(`prediction ${p.id}: ${p.features.length} features logged, ${width} expected`);
        return { features: p.features.map((v) => (v === null ? Number.NaN : v)), outcome: p.outcome };
      }),
    count: (since) => store.countLabelled(since ? { since } : {}),
    close: () => store.close(),
  };
}
