import { and, asc, eq, gte, lt, or } from 'drizzle-orm';
import type { Queryable } from '../db/database.ts';
import { type AuditEvent, storedEventLeaf } from './event.ts';
import { MerkleTreeBuilder, leafHash } from './merkle.ts';
import { nodeKey, type StoredNode } from './log-store.ts';
import { auditEvents, auditNodes } from './tables.ts';

export type LogProblem = {
  /** The first log entry (index) that disagrees, when the fault can be pinned to one. */
  index: number;
  kind: 'missing-entry' | 'leaf-mismatch' | 'columns-mismatch' | 'leaf-hash-mismatch' | 'node-mismatch' | 'missing-node';
  detail: string;
};

export type LogVerification = { entries: number; ok: boolean; problem?: LogProblem; rootHash: Uint8Array | null };

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/**
 * Recomputes the whole tree from the stored events and compares every stored hash with it.
 * Reads in pages by primary key, so memory stays flat; the next page is requested before the current
 * one is checked, so the database reads it while this process canonicalises and hashes.
 */
export async function verifyStoredLog(q: Queryable, opts: { pageSize?: number } = {}): Promise<LogVerification> {
  const pageSize = opts.pageSize ?? 20_000;
  let computed: StoredNode[] = [];
  // A plain literal, not { ...id, hash }: the spread costs more than the node's hash (~2 µs per entry).
  const tree = new MerkleTreeBuilder({ onNode: (id, hash) => computed.push({ level: id.level, index: id.index, hash }) });
  let expected = 0;
  const fail = (problem: LogProblem): LogVerification => ({ entries: expected, ok: false, problem, rootHash: null });
  const page = (from: number) => {
    const rows = q.select().from(auditEvents).where(gte(auditEvents.index, from)).orderBy(asc(auditEvents.index)).limit(pageSize).execute();
    rows.catch(() => {}); // awaited below; this only keeps a prefetch abandoned by a failure from going unhandled
    return rows;
  };
  let next = page(0);

  for (;;) {
    const rows = await next;
    if (rows.length === 0) break;
    next = page(rows[rows.length - 1]!.index + 1);
    computed = [];
    for (const r of rows) {
      if (r.index !== expected) {
        return fail({ index: expected, kind: 'missing-entry', detail: `entry ${expected} is missing (next stored entry is ${r.index})` });
      }
      const event: AuditEvent = {
        index: r.index,
        time: r.recordedAt.toISOString(),
        actor: { sub: r.actorSub, role: r.actorRole },
        action: r.action,
        subjectId: r.subjectId,
        content: r.content,
      };
      // The leaf is what the tree commits to; the columns must say the same thing.
      // (Content read from jsonb is plain JSON already: no round trip through JSON needed.)
      if (!sameBytes(storedEventLeaf(event), r.leaf)) {
        const kind = leafClaimsIndex(r.leaf) === r.index ? 'columns-mismatch' : 'leaf-mismatch';
        return fail({ index: r.index, kind, detail: `entry ${r.index}: stored columns and leaf bytes disagree (${kind})` });
      }
      tree.push(leafHash(r.leaf));
      expected += 1;
    }
    const stored = await storedNodesFor(q, computed);
    for (const node of computed) {
      const have = stored.get(nodeKey(node));
      const coveredFrom = node.index * 2 ** node.level;
      if (!have) {
        return fail({ index: coveredFrom, kind: 'missing-node', detail: `tree node ${nodeKey(node)} (entries ${coveredFrom}..${coveredFrom + 2 ** node.level - 1}) is missing` });
      }
      if (!sameBytes(have, node.hash)) {
        const kind = node.level === 0 ? 'leaf-hash-mismatch' : 'node-mismatch';
        return fail({
          index: coveredFrom,
          kind,
          detail:
            node.level === 0
              ? `entry ${node.index}: stored leaf hash does not match its leaf`
              : `tree node ${nodeKey(node)} over entries ${coveredFrom}..${coveredFrom + 2 ** node.level - 1} does not match the entries`,
        });
      }
    }
  }
  return { entries: expected, ok: true, rootHash: tree.root() };
}

function leafClaimsIndex(leaf: Uint8Array): number | undefined {
  try {
    return (JSON.parse(Buffer.from(leaf).toString('utf8')) as { index?: number }).index;
  } catch {
    return undefined;
  }
}

async function storedNodesFor(q: Queryable, nodes: StoredNode[]): Promise<Map<string, Uint8Array>> {
  // One range per level keeps this on the primary key.
  const ranges = new Map<number, { lo: number; hi: number }>();
  for (const n of nodes) {
    const r = ranges.get(n.level);
    if (!r) ranges.set(n.level, { lo: n.index, hi: n.index });
    else {
      r.lo = Math.min(r.lo, n.index);
      r.hi = Math.max(r.hi, n.index);
    }
  }
  const found = new Map<string, Uint8Array>();
  if (ranges.size === 0) return found;
  const rows = await q
    .select()
    .from(auditNodes)
    .where(
      or(
        ...[...ranges].map(([level, r]) =>
          and(eq(auditNodes.level, level), gte(auditNodes.index, r.lo), lt(auditNodes.index, r.hi + 1)),
        ),
      ),
    );
  for (const r of rows) found.set(nodeKey(r), r.hash);
  return found;
}
