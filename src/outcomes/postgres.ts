/** PostgreSQL through `pg`'s connection pool; the same SQL as SQLite (sql.ts, schema.ts). */
import pg from 'pg';
import { migrate, SqlPredictionStore, type SqlExecutor, type SqlRow, type SqlValue } from './sql.js';
import type { PredictionStore } from './store.js';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

function executor(target: Queryable, pool: pg.Pool | null): SqlExecutor {
  return {
    async query(sql, params: readonly SqlValue[] = []) {
      return (await target.query(sql, params as SqlValue[])).rows as SqlRow[];
    },
    async run(sql, params: readonly SqlValue[] = []) {
      return (await target.query(sql, params as SqlValue[])).rowCount ?? 0;
    },
    async insertMany(sql, rows) {
      // Atomic: on the pool, in a transaction of its own.
      if (pool) return this.transaction((tx) => tx.insertMany(sql, rows));
      // `VALUES ($1, ..., $k)` repeated per row, renumbered: one statement per chunk of rows.
      // The tuple as written (placeholders and any literals), its placeholders renumbered per row.
      const head = sql.slice(0, sql.indexOf('VALUES'));
      const afterValues = sql.slice(sql.indexOf('VALUES') + 6);
      const tuple = afterValues.slice(0, afterValues.indexOf(')') + 1).trim();
      const tail = afterValues.slice(afterValues.indexOf(')') + 1);
      const width = rows[0]?.length ?? 0;
      const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, width)));
      for (let from = 0; from < rows.length; from += perStatement) {
        const chunk = rows.slice(from, from + perStatement);
        const tuples = chunk.map((_, r) => tuple.replace(/\$(\d+)/g, (_, k: string) => `$${r * width + Number(k)}`));
        await target.query(`${head}VALUES ${tuples.join(', ')}${tail}`, chunk.flat() as SqlValue[]);
      }
    },
    async transaction(work) {
      if (!pool) return work(this);
      const client = await pool.connect();
      // A connection lost between this transaction's queries arrives as the client's 'error' event, not as a rejected
      // query (the pool listens only to idle clients): kept here, so it cannot crash the process, and the broken
      // client is discarded on release; the next query on it rejects.
      let lost: Error | undefined;
      const onError = (error: Error) => {
        lost = error;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await work(executor(client, null));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.off('error', onError);
        client.release(lost);
      }
    },
    async close() {
      await pool?.end();
    },
  };
}

/** Parameters per statement: PostgreSQL allows 65,535; chunks stay well below. */
const MAX_PARAMETERS = 9000;

/** Arbitrary constant naming this schema's migration lock. */
const MIGRATION_LOCK_KEY = 4_721_013;

export async function openPostgresStore(databaseUrl: string): Promise<PredictionStore> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = executor(pool, pool);
  const dialect = { kind: 'postgresql', migrationLock: `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})` } as const;
  try {
    await migrate(db, dialect);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return new SqlPredictionStore(db, dialect);
}
