/**
 * The one SQL implementation of PredictionStore, over a small executor interface that SQLite (node:sqlite) and
 * PostgreSQL (pg) each implement. Statements use PostgreSQL's `$1` placeholders; the SQLite executor rewrites them
 * to SQLite's equivalent `?1`.
 */
import { BLOCK_HEADER_BYTES, predictionBatchBlocks } from './batch-block.js';
import { predictionIdTime } from './prediction-records.js';
import { BATCH_LAYOUT, PREDICTION_ID_CHARS, type PredictionBatch } from './prediction-batch.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './schema.js';
import { blockPartsOf, blockPartsPrediction, keptFrom, linePrediction, type PredictionValues } from './stored-batch.js';
import type { FeedbackResult, LabelledPrediction, LabelledQuery, OutcomeFeedback, PredictionRecord, PredictionStore } from './store.js';

/** A Uint8Array is a BLOB (SQLite) or a bytea (PostgreSQL). */
export type SqlValue = string | number | null | Uint8Array;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Run a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Insert many rows atomically with one single-row statement (`$1..$k` placeholders, `VALUES (...)` last): SQLite
   * runs the prepared statement per row (cheapest there; a file database on its writer thread), PostgreSQL sends
   * multi-row statements (fewest round trips). Not to be called inside `transaction`.
   */
  insertMany(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void>;
  /**
   * Insert prediction batches atomically with `sql` (the single-row insert): where present (SQLite's writer thread)
   * the batches' rows are made there; otherwise the store makes them here and calls insertMany.
   */
  insertBatches?(sql: string, batches: readonly PredictionBatch[]): Promise<void>;
  /** Run `work` in one transaction (one connection), committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface SqlDialect {
  kind: PredictionStore['kind'];
  /** Statement that serialises concurrent migrations within a transaction (PostgreSQL: an advisory lock), if needed. */
  migrationLock: string | null;
}

/** Ids per lookup statement, well under both databases' parameter limits. */
const ID_CHUNK = 500;
const PREDICTION_COLUMNS = 'id, created_at, model_version, route, received, features, imputed, probability, label';
/** A stored prediction copied out of its batch row (when its outcome arrives); already there, it is left as it is. */
const INSERT_FROM_BATCH = `INSERT INTO predictions (${PREDICTION_COLUMNS}, from_batch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1) ON CONFLICT (id) DO NOTHING`;
/**
 * One batch row (prediction_batches) holding a block (its JSON-lines column empty); a repeated one (a retried flush:
 * same rows, same first id) is left as it is.
 */
const INSERT_BATCH_ROW =
  "INSERT INTO prediction_batches (first_id, last_id, second, created_from, created_to, row_count, block, predictions) VALUES ($1, $2, $3, $4, $5, $6, $7, '') ON CONFLICT (first_id) DO NOTHING";
/**
 * The batch rows that may hold a prediction id: those of its second whose id range covers it; of a block, its header
 * and index only (batch-block.ts), of a row written before blocks, its JSON lines.
 */
const BATCH_ROWS_FOR_ID =
  `SELECT first_id, predictions, substr(block, 1, ${BLOCK_HEADER_BYTES}) AS head, ` +
  `substr(block, ${BLOCK_HEADER_BYTES + 1}, row_count * ${PREDICTION_ID_CHARS + 4}) AS block_index, length(block) AS block_bytes ` +
  'FROM prediction_batches WHERE second = $1 AND first_id <= $2 AND last_id >= $2';
/** One prediction's record, received text and the block's names. */
const BLOCK_PARTS =
  'SELECT substr(block, $2, $3) AS record, substr(block, $4, $5) AS received, substr(block, $6, $7) AS names FROM prediction_batches WHERE first_id = $1';
const LABELLED_COLUMNS = 'id, created_at, model_version, features, probability, label, outcome, observed_at';

const toInt = (value: unknown): number => Number(value);
const binary = (value: unknown): 0 | 1 => (Number(value) === 1 ? 1 : 0);

function labelledFrom(row: SqlRow): LabelledPrediction {
  return {
    id: String(row.id),
    createdAt: String(row.created_at),
    modelVersion: String(row.model_version),
    features: JSON.parse(String(row.features)) as (number | null)[],
    probability: Number(row.probability),
    label: binary(row.label),
    outcome: binary(row.outcome),
    observedAt: String(row.observed_at),
  };
}

function recordFrom(row: SqlRow): PredictionRecord {
  return {
    id: String(row.id),
    createdAt: String(row.created_at),
    modelVersion: String(row.model_version),
    route: String(row.route) as PredictionRecord['route'],
    received: JSON.parse(String(row.received)) as unknown,
    features: JSON.parse(String(row.features)) as (number | null)[],
    imputed: JSON.parse(String(row.imputed)) as string[],
    probability: Number(row.probability),
    label: binary(row.label),
  };
}

/** A prediction's SQL values from the batch row holding it, or null when none does. */
async function batchedPrediction(db: SqlExecutor, id: string): Promise<PredictionValues | null> {
  const made = predictionIdTime(id);
  if (made === null) return null;
  for (const row of await db.query(BATCH_ROWS_FOR_ID, [Math.floor(made / 1000), id])) {
    if (!(row.head instanceof Uint8Array)) {
      const values = linePrediction(String(row.predictions), id);
      if (values) return values;
      continue;
    }
    const parts = blockPartsOf(row.head, row.block_index as Uint8Array, Number(row.block_bytes), id);
    if (!parts) continue;
    const { record, received, names } = parts;
    const [found] = await db.query(BLOCK_PARTS, [
      String(row.first_id),
      record.from,
      record.bytes,
      received.from,
      received.bytes,
      names.from,
      names.bytes,
    ]);
    if (found)
      return blockPartsPrediction(row.head, id, found.record as Uint8Array, found.received as Uint8Array, found.names as Uint8Array);
  }
  return null;
}

/** Copy a prediction out of its batch row into the predictions table; false when no batch row holds it. */
async function copyOutOfBatch(db: SqlExecutor, id: string): Promise<boolean> {
  const values = await batchedPrediction(db, id);
  if (!values) return false;
  await db.run(INSERT_FROM_BATCH, values);
  return true;
}

const RECORD_OUTCOME = 'UPDATE predictions SET outcome = $1, observed_at = $2, feedback_at = $3 WHERE id = $4 AND outcome IS NULL';

/**
 * One outcome: only a prediction without an outcome is written; a repeat or a contradiction changes nothing. A row
 * found without an outcome after the update saw none was committed in between (a flush of the log: PostgreSQL reads
 * each statement at its own snapshot), so the update is tried again rather than the row read as outcome 0.
 */
async function recordOutcome(tx: SqlExecutor, item: OutcomeFeedback, now: string): Promise<FeedbackResult> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const changed = await tx.run(RECORD_OUTCOME, [item.outcome, item.observedAt ?? now, now, item.predictionId]);
    if (changed > 0) return { predictionId: item.predictionId, status: 'recorded', storedOutcome: item.outcome };
    const [row] = await tx.query('SELECT outcome FROM predictions WHERE id = $1', [item.predictionId]);
    if (!row) {
      // Stored in a batch row only (as every prediction is until its outcome arrives): copied out, then updated.
      if (await copyOutOfBatch(tx, item.predictionId)) continue;
      return { predictionId: item.predictionId, status: 'not_found' };
    }
    if (row.outcome === null || row.outcome === undefined) continue;
    const stored = binary(row.outcome);
    return { predictionId: item.predictionId, status: stored === item.outcome ? 'unchanged' : 'conflict', storedOutcome: stored };
  }
  throw new Error(`prediction ${item.predictionId}: its outcome could not be recorded (the row kept changing)`);
}

/** Apply the migrations not yet recorded, in one transaction. */
export async function migrate(db: SqlExecutor, dialect: SqlDialect): Promise<void> {
  await db.transaction(async (tx) => {
    if (dialect.migrationLock) await tx.query(dialect.migrationLock);
    await tx.run(MIGRATIONS_TABLE);
    const applied = new Set((await tx.query('SELECT version FROM schema_migrations')).map((r) => toInt(r.version)));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      if (migration.only === undefined || migration.only === dialect.kind) {
        for (const statement of migration.statements) await tx.run(statement);
      }
      await tx.run('INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.description,
        new Date().toISOString(),
      ]);
    }
  });
}

export class SqlPredictionStore implements PredictionStore {
  readonly kind: PredictionStore['kind'];

  constructor(
    private readonly db: SqlExecutor,
    dialect: SqlDialect,
  ) {
    this.kind = dialect.kind;
  }

  async append(batches: readonly PredictionBatch[]): Promise<void> {
    const filled = batches.filter((b) => b.rows > 0);
    if (filled.length === 0) return;
    if (this.db.insertBatches) return this.db.insertBatches(INSERT_BATCH_ROW, filled);
    await this.db.insertMany(
      INSERT_BATCH_ROW,
      filled.flatMap((b) => predictionBatchBlocks(b, BATCH_LAYOUT)),
    );
  }

  async recordOutcomes(items: readonly OutcomeFeedback[]): Promise<FeedbackResult[]> {
    if (items.length === 0) return [];
    const now = new Date().toISOString();
    return this.db.transaction(async (tx) => {
      const results: FeedbackResult[] = [];
      for (const item of items) results.push(await recordOutcome(tx, item, now));
      return results;
    });
  }

  async labelled(query: LabelledQuery = {}): Promise<LabelledPrediction[]> {
    const where = ['outcome IS NOT NULL'];
    const params: SqlValue[] = [];
    if (query.modelVersion !== undefined) {
      params.push(query.modelVersion);
      where.push(`model_version = $${params.length}`);
    }
    if (query.since !== undefined) {
      params.push(query.since);
      where.push(`observed_at >= $${params.length}`);
    }
    const filtered = `SELECT ${LABELLED_COLUMNS} FROM predictions WHERE ${where.join(' AND ')}`;
    let sql = `${filtered} ORDER BY created_at ASC, id ASC`;
    if (query.limit !== undefined) {
      params.push(Math.max(0, Math.floor(query.limit)));
      sql = `SELECT * FROM (${filtered} ORDER BY created_at DESC, id DESC LIMIT $${params.length}) recent ORDER BY created_at ASC, id ASC`;
    }
    return (await this.db.query(sql, params)).map(labelledFrom);
  }

  async countLabelled(query: { since?: string } = {}): Promise<number> {
    const rows =
      query.since === undefined
        ? await this.db.query('SELECT CAST(COUNT(*) AS INTEGER) AS n FROM predictions WHERE outcome IS NOT NULL')
        : await this.db.query('SELECT CAST(COUNT(*) AS INTEGER) AS n FROM predictions WHERE outcome IS NOT NULL AND observed_at >= $1', [
            query.since,
          ]);
    return toInt(rows[0]?.n ?? 0);
  }

  async labelledVersions(): Promise<string[]> {
    const rows = await this.db.query('SELECT DISTINCT model_version FROM predictions WHERE outcome IS NOT NULL ORDER BY model_version');
    return rows.map((r) => String(r.model_version));
  }

  async find(ids: readonly string[]): Promise<PredictionRecord[]> {
    const found: PredictionRecord[] = [];
    for (let from = 0; from < ids.length; from += ID_CHUNK) {
      const chunk = ids.slice(from, from + ID_CHUNK);
      const rows = await this.db.query(
        `SELECT ${PREDICTION_COLUMNS} FROM predictions WHERE id IN (${chunk.map((_, k) => `$${k + 1}`).join(', ')})`,
        chunk,
      );
      found.push(...rows.map(recordFrom));
    }
    const copied = new Set(found.map((r) => r.id));
    for (const id of new Set(ids)) {
      if (copied.has(id)) continue;
      const values = await batchedPrediction(this.db, id);
      if (values) found.push(recordFrom(Object.fromEntries(PREDICTION_COLUMNS.split(', ').map((column, k) => [column, values[k]]))));
    }
    return found;
  }

  async count(): Promise<number> {
    const [batched] = await this.db.query('SELECT CAST(COALESCE(SUM(row_count), 0) AS INTEGER) AS n FROM prediction_batches');
    const [single] = await this.db.query('SELECT CAST(COUNT(*) AS INTEGER) AS n FROM predictions WHERE from_batch = 0');
    return toInt(batched?.n ?? 0) + toInt(single?.n ?? 0);
  }

  /**
   * Batch rows wholly older than the cutoff go; one that straddles it keeps its newer predictions (retention runs
   * rarely, and few rows straddle it). Copies made from batch rows for outcomes go with their own created_at, uncounted.
   */
  deleteCreatedBefore(cutoff: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [older] = await tx.query(
        'SELECT CAST(COALESCE(SUM(row_count), 0) AS INTEGER) AS n FROM prediction_batches WHERE created_to < $1',
        [cutoff],
      );
      let removed = toInt(older?.n ?? 0);
      await tx.run('DELETE FROM prediction_batches WHERE created_to < $1', [cutoff]);
      const straddling = await tx.query(
        'SELECT first_id, predictions, block FROM prediction_batches WHERE created_from < $1 AND created_to >= $1',
        [cutoff],
      );
      for (const row of straddling) {
        const kept = keptFrom(row, cutoff);
        removed += kept.removed;
        await tx.run('UPDATE prediction_batches SET predictions = $1, block = $2, row_count = $3, created_from = $4 WHERE first_id = $5', [
          kept.predictions,
          kept.block,
          kept.kept,
          kept.createdFrom,
          String(row.first_id),
        ]);
      }
      await tx.run('DELETE FROM predictions WHERE from_batch = 1 AND created_at < $1', [cutoff]);
      return removed + (await tx.run('DELETE FROM predictions WHERE from_batch = 0 AND created_at < $1', [cutoff]));
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
