import type { PredictionStore } from './store.js';

/** Where the SQLite prediction log lives unless told otherwise (PREDICTION_LOG_PATH, --sqlite-path). */
export const DEFAULT_PREDICTION_LOG_PATH = 'var/prediction-log.sqlite';

export interface StoreConfig {
  /** postgres://… ; when set, PostgreSQL is used and sqlitePath is ignored. */
  databaseUrl?: string | null;
  /** SQLite database file (created with its directory when missing). */
  sqlitePath: string;
}

/**
 * Open the prediction store: PostgreSQL when `databaseUrl` is set, else SQLite at `sqlitePath`. The schema is
 * created or brought forward on open. Drivers are loaded on demand, so a SQLite deployment never loads `pg`.
 */
export async function openPredictionStore(config: StoreConfig): Promise<PredictionStore> {
  if (config.databaseUrl) {
    const { openPostgresStore } = await import('./postgres.js');
    return openPostgresStore(config.databaseUrl);
  }
  const { openSqliteStore } = await import('./sqlite.js');
  return openSqliteStore(config.sqlitePath);
}
