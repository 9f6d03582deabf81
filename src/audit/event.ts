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
