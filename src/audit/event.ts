import { canonicalBytes } from './canonical-json.ts';

export type Actor = { sub: string; role: string };

/** What a state change says about itself; the log adds index, time and actor. */
export type EventDraft = { action: string; subjectId: string; content: unknown };

export type AuditEvent = {
  index: number;
  time: string; // RFC 3339, UTC, millisecond precision
  actor: Actor;
  action: string;
  subjectId: string;
  content: unknown;
};

/** The columns that tie a row to the entry recording it: when, by whom, at which index. */
export type EntryColumns = { createdAt: Date; createdBy: string; auditIndex: number };

/**
 * A row's EntryColumns from the event that records it: the one place its time, author and index come
 * from, so a row and its entry cannot disagree. Tables that name them otherwise (recordedAt, revokedBy)
 * rename these.
 */
export function entryColumns(event: Pick<AuditEvent, 'index' | 'time' | 'actor'>): EntryColumns {
  return { createdAt: new Date(event.time), createdBy: event.actor.sub, auditIndex: event.index };
}

/** For tables whose time column has its own name (recordedAt, observedAt, ...): that column and the index. */
export function recordedAs<K extends string>(event: Pick<AuditEvent, 'index' | 'time'>, timeColumn: K): Record<K, Date> & { auditIndex: number } {
  return { [timeColumn]: new Date(event.time), auditIndex: event.index } as Record<K, Date> & { auditIndex: number };
}

/**
 * The leaf is the RFC 8785 canonical JSON of the whole event, index included, so that a reordered
 * or renumbered entry no longer matches its own hash. Content is passed through JSON first:
 * what is hashed is exactly what is stored and served.
 */
export function eventLeaf(event: AuditEvent): Uint8Array {
  return storedEventLeaf({ ...event, content: jsonSafe(event.content) });
}

/**
 * eventLeaf for an event whose content is already plain JSON, e.g. as read back from the database:
 * the same bytes without the JSON round trip (which is a third of the cost of a leaf).
 */
export function storedEventLeaf(event: AuditEvent): Uint8Array {
  return canonicalBytes({ v: 1, ...event });
}

export function jsonSafe(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
