/**
 * The prediction log's SQL schema, the same text for SQLite and PostgreSQL (both read these types: DOUBLE PRECISION
 * is an 8-byte float in each, times are ISO 8601 UTC strings from Date#toISOString, so text order is time order, and
 * JSON columns are text). Applied on open inside one transaction; `schema_migrations` records which versions ran,
 * so a later change adds an entry here and existing databases are brought forward.
 */
export interface Migration {
  version: number;
  description: string;
  statements: readonly string[];
  /** Run the statements on this database only (a storage setting the other has no equivalent of); recorded on both. */
  only?: 'sqlite' | 'postgresql';
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'predictions with their inputs, and outcomes',
    statements: [
      `CREATE TABLE IF NOT EXISTS predictions (
        id            TEXT PRIMARY KEY,           -- UUIDv7, time-ordered
        created_at    TEXT NOT NULL,              -- ISO 8601 UTC
        model_version TEXT NOT NULL,
        route         TEXT NOT NULL,              -- 'predict' | 'v2'
        received      TEXT NOT NULL,              -- JSON: the row as received
        features      TEXT NOT NULL,              -- JSON: [13 numbers or null] as scored, feature-schema order
        imputed       TEXT NOT NULL,              -- JSON: names of the missing features
        probability   DOUBLE PRECISION NOT NULL,
        label         INTEGER NOT NULL,
        outcome       INTEGER,                    -- 0 | 1, null until feedback
        observed_at   TEXT,                       -- ISO 8601 UTC, when the outcome was observed
        feedback_at   TEXT                        -- ISO 8601 UTC, when the outcome was recorded
      )`,
      'CREATE INDEX IF NOT EXISTS predictions_created_at ON predictions (created_at)',
      'CREATE INDEX IF NOT EXISTS predictions_labelled ON predictions (model_version, created_at) WHERE outcome IS NOT NULL',
      'CREATE INDEX IF NOT EXISTS predictions_observed_at ON predictions (observed_at) WHERE outcome IS NOT NULL',
    ],
  },
  {
    version: 2,
    description: 'predictions stored a batch per row, indexed one by one only when their outcome arrives',
    statements: [
      `CREATE TABLE IF NOT EXISTS prediction_batches (
        first_id      TEXT PRIMARY KEY,           -- the smallest id in the row
        last_id       TEXT NOT NULL,              -- the largest
        second        BIGINT NOT NULL,            -- the second its ids were made in (a UUIDv7's time / 1000)
        created_from  TEXT NOT NULL,              -- ISO 8601 UTC, the earliest created_at in the row
        created_to    TEXT NOT NULL,              -- the latest
        row_count     INTEGER NOT NULL,           -- predictions in the row
        predictions   TEXT NOT NULL               -- one JSON array per line, in the predictions table's column order
      )`,
      'CREATE INDEX IF NOT EXISTS prediction_batches_second ON prediction_batches (second)',
      'CREATE INDEX IF NOT EXISTS prediction_batches_created_from ON prediction_batches (created_from)',
      // 1: a copy made from prediction_batches when its outcome arrived (counted there); 0: stored here only.
      'ALTER TABLE predictions ADD COLUMN from_batch INTEGER NOT NULL DEFAULT 0',
    ],
  },
  {
    version: 3,
    description: 'batch rows hold their predictions as a block (typed arrays copied as they are), not as JSON lines',
    statements: [
      // Rows written from here on: `block` holds the predictions (batch-block.ts) and `predictions` is ''. Rows written
      // before keep their JSON lines, with `block` NULL; both are read. BYTEA: PostgreSQL's binary type; SQLite
      // stores a blob as it is, whatever the column's declared type.
      'ALTER TABLE prediction_batches ADD COLUMN block BYTEA',
    ],
  },
  {
    version: 4,
    description: 'PostgreSQL: blocks compressed with lz4, so a lookup decompresses only up to what it reads, quickly',
    only: 'postgresql',
    statements: [
      // A lookup reads a block's header and index, then one record and text (substr): TOAST decompresses a compressed
      // value from its start up to the slice asked for. With the default pglz that took 3.3-4.7 ms a lookup for
      // 300 KB blocks on a test host, with lz4 1.7-2.6 ms, as fast as no compression (1.2-2.5 ms, 4x the disk).
      // Applies to rows written from here on. A server without lz4 (built without it, or before PostgreSQL 14) keeps
      // pglz: the setting is an optimisation, never a reason to refuse to start.
      `DO $$
      BEGIN
        EXECUTE 'ALTER TABLE prediction_batches ALTER COLUMN block SET COMPRESSION lz4';
      EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'prediction_batches.block keeps the default compression: %', SQLERRM;
      END $$`,
    ],
  },
];

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at  TEXT NOT NULL
)`;
