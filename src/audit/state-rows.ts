import { and, asc, type Column, getTableColumns, gte, isNull, lt, or, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Queryable } from '../db/database.ts';
import type { ExpectedRow, StateProjection, StoredRow } from './state-check.ts';

/**
 * A StateProjection over a table with its own audit index column: the rows a window claims are one
 * indexed range read. Columns are compared by their drizzle names and reported by their SQL names.
 */
export function tableProjection<T extends PgTable>(
  q: Queryable,
  table: T,
  spec: {
    name: string;
    index: Column;
    /** The row's key as a string, and the condition that finds it by that key. */
    key(row: T['$inferSelect']): string;
    byKey(key: string): SQL | undefined;
    expect(event: Parameters<StateProjection['expect']>[0]): ExpectedRow[];
    /** Values compared in place of a column's own (e.g. the hash of a large JSON column), by column. */
    derive?(row: T['$inferSelect']): Record<string, unknown>;
  },
): StateProjection {
  const sqlNames = new Map(Object.entries(getTableColumns(table)).map(([prop, col]) => [prop, (col as Column).name]));
  const toStored = (r: T['$inferSelect']): StoredRow => {
    const row = r as Record<string, unknown>;
    const index = row[propOf(sqlNames, spec.index.name)];
    return { index: index === null || index === undefined ? null : Number(index), key: spec.key(r), values: spec.derive ? { ...row, ...spec.derive(r) } : row };
  };
  return {
    table: spec.name,
    expect: spec.expect,
    columnName: (prop) => sqlNames.get(prop) ?? prop,
    async read(range) {
      const where = 'outside' in range ? or(isNull(spec.index), lt(spec.index, 0), gte(spec.index, range.outside)) : and(gte(spec.index, range.from), lt(spec.index, range.to));
      const rows = await (q.select().from(table as PgTable) as unknown as { where(w: SQL | undefined): { orderBy(c: SQL | Column): Promise<T['$inferSelect'][]> } })
        .where(where)
        .orderBy(asc(spec.index));
      return rows.map(toStored);
    },
    async find(key) {
      const rows = await (q.select().from(table as PgTable) as unknown as { where(w: SQL | undefined): Promise<T['$inferSelect'][]> }).where(spec.byKey(key));
      return rows[0] ? toStored(rows[0]) : undefined;
    },
  };
}

function propOf(names: Map<string, string>, sqlName: string): string {
  for (const [prop, name] of names) if (name === sqlName) return prop;
  return sqlName;
}

/** Keys of composite primary keys: `a/b`. */
export const joinKey = (...parts: (string | number)[]) => parts.join('/');
