/**
 * The PostgreSQL client the application gives drizzle (src/db/database.ts): statements with few parameters
 * are prepared on their connection, inside transactions too; statements with many are not.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase, type Queryable, queryRows } from '../../src/db/database.ts';
import { createTestDatabase, databaseUnavailable, type TestDatabase, testDbKind } from '../support/db.ts';

describe.runIf(testDbKind === 'postgres' && !databaseUnavailable())('the PostgreSQL client', () => {
  let testDb: TestDatabase;
  let one: Database; // one connection, so the prepared statements seen are this test's own

  beforeAll(async () => {
    testDb = await createTestDatabase();
    one = await openDatabase({ kind: 'postgres', url: testDb.url!, maxConnections: 1 });
  });
  afterAll(async () => {
    await one?.close();
    await testDb?.drop();
  });

  const prepared = async (q: Queryable) => (await queryRows<{ statement: string }>(q, sql`select statement from pg_prepared_statements`)).map((r) => r.statement);

  it('prepares a statement with up to 16 parameters, and not one with more', async () => {
    const few = Array.from({ length: 16 }, (_, i) => sql`${i}::int`);
    const many = Array.from({ length: 17 }, (_, i) => sql`${i}::int`);
    await queryRows(one.db, sql`select ${sql.join(few, sql`, `)} as few_marker`);
    await queryRows(one.db, sql`select ${sql.join(many, sql`, `)} as many_marker`);
    const statements = await prepared(one.db);
    expect(statements.some((s) => s.includes('few_marker'))).toBe(true);
    expect(statements.some((s) => s.includes('many_marker'))).toBe(false);
  });

  it('prepares inside a transaction the same way, and answers the same', async () => {
    const answer = await one.db.transaction(async (tx) => {
      const [row] = await queryRows<{ n: number }>(tx, sql`select ${41}::int + 1 as n, 1 as in_tx_marker`);
      return { n: row!.n, statements: await prepared(tx) };
    });
    expect(answer.n).toBe(42);
    expect(answer.statements.some((s) => s.includes('in_tx_marker'))).toBe(true);
  });
});
