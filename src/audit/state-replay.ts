import { sql } from 'drizzle-orm';
import { type Queryable, queryRowsPrepared } from '../db/database.ts';
import type { AuditEvent } from './event.ts';
import { treeSize } from './log-store.ts';
import { compareWindow, type StateDisagreement, type StateProjection, type StateVerification } from './state-check.ts';

/**
 * Replays the log against the state tables: streams the entries a window at a time (memory flat in the
 * log's size), asks each projection which rows the window's events state and reads the rows of its table
 * that claim entries in that window, and names the first row that disagrees (state-check.ts). Then the
 * rows that claim no entry, or one the log does not have.
 */
export async function checkState(q: Queryable, projections: readonly StateProjection[], opts: { window?: number } = {}): Promise<StateVerification> {
  const window = opts.window ?? 4096;
  const size = await treeSize(q);
  const rows: Record<string, number> = Object.fromEntries(projections.map((p) => [p.table, 0]));
  for (let from = 0; from < size; from += window) {
    const to = Math.min(from + window, size);
    const events = await readWindow(q, from, to);
    const expected = projections.map(() => [] as Parameters<typeof compareWindow>[1][number][]);
    for (const event of events) {
      for (const [i, p] of projections.entries()) for (const r of p.expect(event)) expected[i]!.push({ ...r, index: event.index });
    }
    let first: StateDisagreement | undefined;
    // Every table's rows of the window at once: on PostgreSQL they travel side by side on the pool.
    const read = await Promise.all(projections.map((p) => p.read({ from, to })));
    for (const [i, p] of projections.entries()) {
      const stored = read[i]!;
      rows[p.table]! += stored.length;
      let d = compareWindow(p.table, expected[i]!, stored);
      if (d?.column === '(row)' && d.inTable === null) {
        // Missing at its entry: a row that claims another entry is a changed audit index, not a lost row.
        const elsewhere = await p.find(d.row);
        if (elsewhere) d = { ...d, column: 'audit_index', inTable: elsewhere.index, inLog: d.index };
      }
      if (d && p.columnName && d.column !== '(row)') d = { ...d, column: p.columnName(d.column) };
      if (d && (!first || (d.index ?? Number.POSITIVE_INFINITY) < (first.index ?? Number.POSITIVE_INFINITY))) first = d;
    }
    if (first) return { ok: false, entries: size, rows, problem: first };
  }
  for (const p of projections) {
    const [stray] = await p.read({ outside: size });
    if (stray) return { ok: false, entries: size, rows, problem: { table: p.table, row: stray.key, column: '(row)', inTable: stray.index ?? undefined, inLog: null, index: null } };
  }
  return { ok: true, entries: size, rows };
}

/** The window's events, their leaves read as text and parsed once (the leaf is the event's JSON). */
async function readWindow(q: Queryable, from: number, to: number): Promise<AuditEvent[]> {
  const rows = await queryRowsPrepared<{ leaf: string }>(
    q,
    sql`select convert_from(leaf, 'UTF8') as leaf from audit_events where idx >= ${from} and idx < ${to} order by idx`,
    'state_replay_window',
  );
  return rows.map((r) => JSON.parse(r.leaf) as AuditEvent);
}
