import type { Queryable } from './database.ts';

const built = new WeakMap<object, Map<string, unknown>>();

/**
 * A statement built once per database handle and kept: drizzle otherwise builds its SQL text in JS on every
 * call, which on a hot read costs more than the query's round trip. Its values come as `sql.placeholder`s,
 * given to `execute`. For the long-lived handle (the service's `database.db`), not a transaction.
 */
export function preparedOn<T>(q: Queryable, name: string, build: (q: Queryable) => T): T {
  let statements = built.get(q);
  if (!statements) {
    statements = new Map();
    built.set(q, statements);
  }
  let statement = statements.get(name) as T | undefined;
  if (statement === undefined) {
    statement = build(q);
    statements.set(name, statement);
  }
  return statement;
}
