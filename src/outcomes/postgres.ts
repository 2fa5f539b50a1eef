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
    async transaction(work) {
      if (!pool) return work(this);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(executor(client, null));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool?.end();
    },
  };
}

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
