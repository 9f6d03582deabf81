import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { type ExtractTablesWithRelations, type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { lockPgliteDir } from './pglite-lock.ts';
import { makePrivate } from './private-dir.ts';

/**
 * The query surface both drivers share; services are written against this alone. Each capability's
 * queries name its own table objects, so the adapter knows no table (drizzle's relational `db.query`
 * API, which would need them all, is not used).
 */
type NoTables = Record<string, never>;
export type Db = PgDatabase<PgQueryResultHKT, NoTables>;
export type Tx = PgTransaction<PgQueryResultHKT, NoTables, ExtractTablesWithRelations<NoTables>>;
export type Queryable = Db | Tx;

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  /** Applies pending migrations; safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** True when the database answers and every shipped migration is applied. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
  /**
   * The raw output of a `COPY (...) TO STDOUT` statement, as a stream. PostgreSQL only: bulk readers
   * (full-log verification) use it where present and page with SELECTs otherwise.
   */
  copyOut?(statement: string): Promise<AsyncIterable<Uint8Array>>;
}

// Any fixed number: every Clearframe process serialises migrations on it.
const MIGRATION_LOCK = 7_245_118_001;

export type OpenOptions = { kind: 'pglite'; dataDir?: string /* undefined: in memory */ } | { kind: 'postgres'; url: string; maxConnections?: number };

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.kind === 'pglite') {
    if (opts.dataDir) makePrivate(opts.dataDir);
    const unlock = opts.dataDir ? lockPgliteDir(opts.dataDir) : () => {};
    const client = opts.dataDir ? new PGlite(opts.dataDir) : new PGlite();
    await client.waitReady.catch((e: unknown) => {
      unlock();
      throw e;
    });
    const db = drizzlePglite({ client });
    return {
      kind: 'pglite',
      db: db as unknown as Db,
      // PGlite is one process: no other migrator can race us.
      migrate: () => migratePglite(db, { migrationsFolder: MIGRATIONS_DIR }),
      ready: () => migrationsApplied(db as unknown as Db),
      close: async () => {
        await client.close();
        if (opts.dataDir) makePrivate(opts.dataDir);
        unlock();
      },
    };
  }
  const client = postgres(opts.url, {
    max: opts.maxConnections ?? 10,
    onnotice: () => {},
  });
  const db = drizzlePostgres({ client: preparingSmallStatements(client) });
  return {
    kind: 'postgres',
    db: db as unknown as Db,
    async migrate() {
      const conn = await client.reserve();
      try {
        await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
        await migratePostgres(db, { migrationsFolder: MIGRATIONS_DIR });
      } finally {
        await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
        conn.release();
      }
    },
    ready: () => migrationsApplied(db as unknown as Db),
    close: () => client.end({ timeout: 5 }),
    async copyOut(statement) {
      const stream = await client.unsafe(statement).readable();
      // postgres.js 3.4 pauses its socket whenever a pushed CopyData fills the stream's buffer, and only
      // the stream's _read resumes it. When the last CopyData is the one that fills it, the stream ends
      // with the socket still paused: ReadyForQuery is never read and the connection never goes back to
      // the pool (seen here: a pool of 2 hangs on its third large COPY). Resuming once at the end fixes it.
      stream.once('end', () => (stream as unknown as { _read(size: number): void })._read(0));
      return stream;
    },
  };
}

/** Statements with at most this many parameters are prepared on their connection (see preparingSmallStatements). */
const PREPARE_UP_TO_PARAMETERS = 16;

/**
 * drizzle sends every statement it was not given a name for unprepared, and postgres.js then sends a
 * statement with parameters in two round trips: Parse/Describe, wait for the parameter types, then
 * Bind/Execute. Prepared, it is one round trip from its second use on a connection. This client prepares
 * every statement with up to PREPARE_UP_TO_PARAMETERS parameters: the statements the service sends are
 * the same few texts over and over, and those with more parameters are mostly lists of varying length
 * (multi-row inserts, `in (...)`), which would fill each connection's statement cache with one-offs.
 */
function preparingSmallStatements(client: postgres.Sql): postgres.Sql {
  const wrap = <S extends object>(sql: S): S =>
    new Proxy(sql, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop === 'unsafe') {
          return (query: string, params?: unknown[], options?: { prepare?: boolean }) =>
            (value as postgres.Sql['unsafe']).call(
              target,
              query,
              params as never,
              params && params.length > 0 && params.length <= PREPARE_UP_TO_PARAMETERS ? { ...options, prepare: true } : options,
            );
        }
        // Transactions and savepoints hand their callback a client of their own: it prepares the same way.
        if (prop === 'begin' || prop === 'savepoint') {
          return (...args: unknown[]) => {
            const last = args.length - 1;
            const callback = args[last] as (tx: object) => unknown;
            args[last] = (tx: object) => callback(wrap(tx));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
  return wrap(client);
}

async function migrationsApplied(db: Db): Promise<boolean> {
  const { readMigrationFiles } = await import('drizzle-orm/migrator');
  const expected = readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR }).length;
  try {
    const rows = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    return Number(rows[0]?.n ?? 0) >= expected;
  } catch {
    return false;
  }
}

/**
 * queryRows as a prepared statement, for raw SQL on hot paths. postgres.js then keeps the statement per
 * connection (keyed by its text) and sends each later execution in one round trip instead of two (an
 * unprepared query with parameters waits for a Describe answer before it is bound), and PostgreSQL can
 * reuse its plan. drizzle's `db.execute` has no way to ask for this, so this does what it does with a name.
 */
export async function queryRowsPrepared<T>(q: Queryable, query: SQL, name: string): Promise<T[]> {
  const { dialect } = q as unknown as { dialect: { sqlToQuery(sql: SQL): { sql: string; params: unknown[] } } };
  return executePrepared<T>(q, dialect.sqlToQuery(query), name);
}

/**
 * queryRowsPrepared for a statement whose text is fixed ($1, $2, … with casts where the type matters) and
 * its parameters, ready for the driver (JSON as text, times as ISO strings): nothing is built per call.
 */
export async function queryTextPrepared<T>(q: Queryable, text: string, params: readonly unknown[], name: string): Promise<T[]> {
  return executePrepared<T>(q, { sql: text, params: [...params] }, name);
}

/** drizzle's session runs a built query as a named (prepared) statement on either driver. */
async function executePrepared<T>(q: Queryable, query: { sql: string; params: unknown[] }, name: string): Promise<T[]> {
  const { session } = q as unknown as {
    session: { prepareQuery(query: { sql: string; params: unknown[] }, fields: undefined, name: string, arrayMode: boolean): { execute(): Promise<unknown> } };
  };
  return rowsOf<T>(await session.prepareQuery(query, undefined, name, false).execute());
}

/** Raw SQL rows on either driver. */
export async function queryRows<T>(q: Queryable, query: SQL): Promise<T[]> {
  return rowsOf<T>(await q.execute(query));
}

/** postgres.js returns the rows as an array, PGlite an object with `rows`. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
