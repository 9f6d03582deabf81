import { canonicalize } from './canonical-json.ts';
import type { AuditEvent } from './event.ts';

/**
 * The state-replay check's port and its pure core. Each capability that owns a state table a decision
 * reads declares a `StateProjection` of it (in its own `replay.ts`): which rows the log's events say the
 * table holds, and how to read the rows it does hold. The composition root hands them all to
 * `checkState` (state-replay.ts), which streams the log and the tables side by side and names the first
 * row that disagrees. The log is what is signed and monitored; a table edited behind its back (triggers
 * disabled) is then found, where before the gate would have decided on the forged row.
 */

/** A row as an event states it: its key and, per column, the value (`undefined`: the event does not state it). */
export type ExpectedRow = { key: string; values: Record<string, unknown> };

/** A row as the table holds it, with the log index it claims to come from (null when it names none). */
export type StoredRow = { index: number | null; key: string; values: Record<string, unknown> };

export interface StateProjection {
  /** The table, as SQL names it. */
  readonly table: string;
  /**
   * The rows this event says the table holds (none for an event that does not write it). Called once per
   * event, in log order; may keep state between calls (e.g. the next `seq` of a status history).
   */
  expect(event: AuditEvent): ExpectedRow[];
  /** The rows whose index is in [from, to), or (`outside`) those whose index is null or outside [0, size). */
  read(range: { from: number; to: number } | { outside: number }): Promise<StoredRow[]>;
  /** One row by key wherever it is, to say that a row missing at its entry claims another index. */
  find(key: string): Promise<StoredRow | undefined>;
  /** The SQL name of a column as the projection names it (e.g. `grantTraining` → `grant_training`). */
  columnName?(column: string): string;
}

/** Makes a run's projections (fresh, since they may keep state), reading through `q`. */
export type StateProjections<Q> = (q: Q) => StateProjection[];

export type StateDisagreement = {
  table: string;
  /** The row's key (e.g. its id, or `checkpointId/seq`). */
  row: string;
  /** The column that disagrees, or `(row)` for a row present on one side only. */
  column: string;
  /** The value in the table (`null` for a row the table lacks). */
  inTable: unknown;
  /** What the log says (`null` for a row no event states). */
  inLog: unknown;
  /** The entry that states the row, if any. */
  index: number | null;
};

export type StateVerification = { ok: boolean; entries: number; rows: Record<string, number>; problem?: StateDisagreement };

/** One line for the command line. */
export function describeDisagreement(d: StateDisagreement): string {
  const at = d.index === null ? '' : ` (entry ${d.index})`;
  if (d.column === '(row)') {
    return d.inTable === null
      ? `${d.table} row ${d.row}: missing from the table, but the log states it${at}`
      : `${d.table} row ${d.row}: in the table, but no entry of the log states it${d.inTable === undefined ? '' : ` (it claims entry ${String(d.inTable)})`}`;
  }
  return `${d.table} row ${d.row}${at}: ${d.column} is ${show(d.inTable)} in the table, the log says ${show(d.inLog)}`;
}

function show(v: unknown): string {
  const s = comparable(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** A value as compared: times as RFC 3339 UTC, numbers and text as JSON, JSON values canonically (RFC 8785). */
export function comparable(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'invalid date' : JSON.stringify(v.toISOString());
  if (typeof v === 'bigint') return v.toString();
  return canonicalize(v);
}

/**
 * Compares one window of the log with the table's rows that claim entries in it: every stated row must
 * be there with the same values and index, and every row there must be stated. Returns the first
 * disagreement in log order (by the index of the entry concerned), else undefined.
 */
export function compareWindow(table: string, expected: readonly (ExpectedRow & { index: number })[], stored: readonly StoredRow[]): StateDisagreement | undefined {
  const byKey = new Map<string, StoredRow>();
  for (const r of stored) byKey.set(r.key, r);
  let first: StateDisagreement | undefined;
  const consider = (d: StateDisagreement) => {
    if (!first || (d.index ?? Number.POSITIVE_INFINITY) < (first.index ?? Number.POSITIVE_INFINITY)) first = d;
  };
  const stated = new Set<string>();
  for (const e of expected) {
    if (first && first.index !== null && first.index < e.index) break;
    stated.add(e.key);
    const row = byKey.get(e.key);
    if (!row) {
      consider({ table, row: e.key, column: '(row)', inTable: null, inLog: e.values, index: e.index });
      continue;
    }
    if (row.index !== e.index) {
      consider({ table, row: e.key, column: 'audit_index', inTable: row.index, inLog: e.index, index: e.index });
      continue;
    }
    const d = compareRow(table, e, row);
    if (d) consider(d);
  }
  for (const r of stored) {
    if (stated.has(r.key)) continue;
    consider({ table, row: r.key, column: '(row)', inTable: r.index ?? undefined, inLog: null, index: r.index });
  }
  return first;
}

/** The first column the event states that the row holds otherwise. */
export function compareRow(table: string, e: ExpectedRow & { index: number }, row: StoredRow): StateDisagreement | undefined {
  for (const column in e.values) {
    const want = e.values[column];
    if (want === undefined) continue;
    const have = row.values[column];
    if (!same(have, want)) return { table, row: e.key, column, inTable: have ?? null, inLog: want, index: e.index };
  }
  return undefined;
}

/** comparable(a) === comparable(b), without serialising the plain values (most of them). */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined) return b === null || b === undefined;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return comparable(a) === comparable(b);
}

/** An ISO time from an event as the Date a timestamp column holds; undefined stays undefined (not stated). */
export function timeOf(v: unknown): Date | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  return new Date(String(v));
}

/** The event's content as a record. */
export function contentOf(event: AuditEvent): Record<string, unknown> {
  return (event.content ?? {}) as Record<string, unknown>;
}

/** The audit columns a row takes from its event (entryColumns), as the event states them. */
export function entryExpect(event: AuditEvent): { createdAt: Date; createdBy: string; auditIndex: number } {
  return { createdAt: new Date(event.time), createdBy: event.actor.sub, auditIndex: event.index };
}
