import { and, asc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Queryable } from '../db/database.ts';
import { queryRowsPrepared } from '../db/database.ts';
import { Problem } from '../http/problem.ts';
import type { AuditEvent } from './event.ts';
import { assembleProof, consistencyProofPlan, emptyRoot, hashRange, inclusionProofPlan, type NodeId, rootPlan } from './merkle.ts';
import { auditEvents, auditSignedHeads } from './tables.ts';

/**
 * Storage of the log: events and perfect-subtree hashes. All Merkle maths lives in merkle.ts;
 * this file only turns node plans into one SELECT each.
 */
export type StoredEvent = AuditEvent & { leaf: Uint8Array };
export type StoredNode = NodeId & { hash: Uint8Array };

/** The last entry's index (NULL for an empty log): a scalar subquery for statements that read the size beside other things. */
export const LAST_INDEX_SQL = 'select max(idx) from audit_events';

/** The log's size from LAST_INDEX_SQL's answer. */
export function treeSizeFromLastIndex(last: string | number | null | undefined): number {
  return last === null || last === undefined ? 0 : Number(last) + 1;
}

export async function treeSize(q: Queryable): Promise<number> {
  const rows = await queryRowsPrepared<{ n: string | number | null }>(q, sql.raw(`select (${LAST_INDEX_SQL}) as n`), 'tree_size');
  return treeSizeFromLastIndex(rows[0]?.n);
}

export async function readNodes(q: Queryable, ids: NodeId[]): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  if (ids.length === 0) return found;
  const unique = [...new Map(ids.map((id) => [nodeKey(id), id])).values()];
  // One statement text for every proof, the node ids as two array parameters, prepared: PostgreSQL plans
  // it once per connection (a list of ORed conditions is a new statement, planned anew, for each proof),
  // and postgres.js sends it in one round trip.
  const rows = await queryRowsPrepared<{ level: number; idx: string | number; hash: Uint8Array }>(
    q,
    sql`select n.level, n.idx, n.hash
        from unnest(${sql.param(unique.map((id) => id.level))}::int2[], ${sql.param(unique.map((id) => id.index))}::int8[]) as want(level, idx)
        join audit_nodes n on n.level = want.level and n.idx = want.idx`,
    'read_nodes',
  );
  for (const r of rows) found.set(nodeKey({ level: Number(r.level), index: Number(r.idx) }), new Uint8Array(r.hash));
  return found;
}

export const nodeKey = (id: NodeId) => `${id.level}/${id.index}`;

/**
 * A node the tree needs and the log does not hold: an entry was written outside the append path (its nodes
 * never were), or nodes were removed. Nothing can be appended or signed until an operator repairs the log,
 * so it is a 503 naming the log (and /readyz says the same), not an opaque 500.
 */
export function missingNode(id: NodeId): Problem {
  return new Problem(
    503,
    'not-ready',
    `the audit log cannot be appended to or signed: it has no tree node ${nodeKey(id)} (an entry without its nodes, written outside the append path?); GET /readyz names the cause`,
  );
}

function lookupIn(nodes: Map<string, Uint8Array>) {
  return (id: NodeId): Uint8Array => {
    const h = nodes.get(nodeKey(id));
    if (!h) throw missingNode(id);
    return h;
  };
}

/**
 * Why the log cannot take its next entry, or null: its last entry must have its leaf node, and the tree's
 * right edge at its size must be stored (what every append resumes from). Two index lookups and one small
 * read, for /readyz.
 */
export async function appendBlocker(q: Queryable): Promise<string | null> {
  const [tip] = await queryRowsPrepared<{ lastEntry: string | number | null; lastLeaf: string | number | null }>(
    q,
    sql.raw(`select (${LAST_INDEX_SQL}) as "lastEntry", (select max(idx) from audit_nodes where level = 0) as "lastLeaf"`),
    'append_blocker',
  );
  const size = treeSizeFromLastIndex(tip?.lastEntry);
  const leaves = treeSizeFromLastIndex(tip?.lastLeaf);
  if (size !== leaves) {
    return `the audit log cannot be appended to: its last entry is ${size - 1} but its last leaf node is ${leaves - 1} (an entry written outside the append path, or nodes removed)`;
  }
  const plan = rootPlan(size);
  const nodes = await readNodes(q, plan);
  const missing = plan.find((id) => !nodes.has(nodeKey(id)));
  return missing ? `the audit log cannot be appended to: its tree at size ${size} has no node ${nodeKey(missing)}` : null;
}

/** The hashes of the tree's right edge (the nodes of rootPlan(size)), to resume appending from. */
export async function readFrontier(q: Queryable, size: number): Promise<Uint8Array[]> {
  const plan = rootPlan(size);
  const nodes = await readNodes(q, plan);
  return plan.map(lookupIn(nodes));
}

export async function rootHash(q: Queryable, size: number): Promise<Uint8Array> {
  if (size === 0) return emptyRoot();
  const plan = rootPlan(size);
  const nodes = await readNodes(q, plan);
  return hashRange(plan.map(lookupIn(nodes)));
}

export async function inclusionProof(q: Queryable, index: number, size: number): Promise<Uint8Array[]> {
  const plan = inclusionProofPlan(index, size);
  const nodes = await readNodes(q, plan.flat());
  return assembleProof(plan, lookupIn(nodes));
}

export async function consistencyProof(q: Queryable, from: number, to: number): Promise<Uint8Array[]> {
  const plan = consistencyProofPlan(from, to);
  const nodes = await readNodes(q, plan.flat());
  return assembleProof(plan, lookupIn(nodes));
}

export async function readEvents(q: Queryable, from: number, limit: number): Promise<StoredEvent[]> {
  const rows = await q
    .select()
    .from(auditEvents)
    .where(and(gte(auditEvents.index, from), lt(auditEvents.index, from + limit)))
    .orderBy(asc(auditEvents.index));
  return rows.map(toStoredEvent);
}

export async function readEvent(q: Queryable, index: number): Promise<StoredEvent | undefined> {
  const rows = await q.select().from(auditEvents).where(eq(auditEvents.index, index)).prepare('read_event').execute();
  return rows[0] ? toStoredEvent(rows[0]) : undefined;
}

export async function readEventsBySubject(q: Queryable, subjectIds: string[]): Promise<StoredEvent[]> {
  if (subjectIds.length === 0) return [];
  // Matches the expression index audit_events_subject_idx (migrations/0008).
  const rows = await q
    .select()
    .from(auditEvents)
    .where(inArray(sql`clearframe_leaf_subject(${auditEvents.leaf})`, subjectIds))
    .orderBy(asc(auditEvents.index));
  return rows.map(toStoredEvent);
}

/** The event a stored leaf says; the leaf is all that is stored. */
function toStoredEvent(r: typeof auditEvents.$inferSelect): StoredEvent {
  const e = JSON.parse(Buffer.from(r.leaf.buffer, r.leaf.byteOffset, r.leaf.byteLength).toString('utf8')) as AuditEvent & { v?: number };
  return { index: r.index, time: e.time, actor: e.actor, action: e.action, subjectId: e.subjectId, content: e.content, leaf: r.leaf };
}

/**
 * The entries and the nodes they complete, in ONE prepared statement: a batch of 30 changes has ~30
 * leaves and ~30 nodes, which as two multi-row INSERTs were two statements of 60 and 90 parameters, each
 * described before it was bound (two round trips apiece, measured 2.1 ms a batch). Here the leaves travel
 * as one bytea with their offsets and lengths, the nodes as three arrays: 7 parameters, any batch size.
 */
export async function writeAppend(q: Queryable, events: StoredEvent[], nodes: StoredNode[]): Promise<void> {
  if (events.length === 0) return;
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.index !== events[0]!.index + i) throw new Error('writeAppend: entries must have consecutive indices');
  }
  const starts: number[] = [];
  const lengths: number[] = [];
  let at = 0;
  for (const e of events) {
    starts.push(at);
    lengths.push(e.leaf.byteLength);
    at += e.leaf.byteLength;
  }
  const leaves = Buffer.concat(events.map((e) => e.leaf));
  const hashes = Buffer.concat(nodes.map((n) => n.hash));
  await queryRowsPrepared(
    q,
    sql`with entries as (
          insert into audit_events (idx, leaf)
          select ${events[0]!.index}::int8 + x.o - 1, substring(${leaves}::bytea from x.s + 1 for x.l)
          from unnest(${sql.param(starts)}::int4[], ${sql.param(lengths)}::int4[]) with ordinality as x(s, l, o)
        )
        insert into audit_nodes (level, idx, hash)
        select y.lv, y.ix, substring(${hashes}::bytea from (y.o::int - 1) * 32 + 1 for 32)
        from unnest(${sql.param(nodes.map((n) => n.level))}::int2[], ${sql.param(nodes.map((n) => n.index))}::int8[]) with ordinality as y(lv, ix, o)`,
    'append_entries',
  );
}

/** A tree head the service signed, as it is remembered (audit_signed_heads). */
export type SignedHead = { treeSize: number; rootHash: Uint8Array };

/** The largest tree the service has signed a head for, of any origin or key (there is one tree). */
export async function largestSignedHead(q: Queryable): Promise<SignedHead | undefined> {
  const [row] = await q
    .select({ treeSize: auditSignedHeads.treeSize, rootHash: auditSignedHeads.rootHash })
    .from(auditSignedHeads)
    .orderBy(sql`${auditSignedHeads.treeSize} desc`)
    .limit(1)
    .prepare('largest_signed_head')
    .execute();
  return row;
}

/** Remembers a signed head (append-only; the same origin, key and size once). */
export async function rememberSignedHead(q: Queryable, head: { origin: string; keyId: string } & SignedHead): Promise<void> {
  await q.insert(auditSignedHeads).values(head).onConflictDoNothing();
}
