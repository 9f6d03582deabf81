import { and, asc, eq, gte, lt, or, sql } from 'drizzle-orm';
import { type Queryable, queryRows } from '../db/database.ts';
import { type AuditEvent, storedEventLeaf } from './event.ts';
import { MerkleTreeBuilder } from './merkle.ts';
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
 * Recomputes the whole tree from the database and compares every stored hash with it; names the first
 * entry that disagrees. The per-entry checks run inside PostgreSQL, where the data is (the columns say
 * what the leaf says, the stored leaf hash is SHA-256(0x00 || leaf), indices are dense); this process
 * then rebuilds the tree from those checked leaf hashes and compares every interior node.
 */
export async function verifyStoredLog(q: Queryable, opts: { pageSize?: number } = {}): Promise<LogVerification> {
  const pageSize = opts.pageSize ?? 50_000;
  const [size, gap, columns, hashes] = await Promise.all([
    storedSize(q),
    firstGap(q),
    firstColumnsMismatch(q).catch(() => slowColumnsCheck(q, pageSize)), // a leaf that is not JSON at all
    firstLeafHashMismatch(q),
  ]);
  const problems: LogProblem[] = [];
  if (gap !== undefined) problems.push({ index: gap, kind: 'missing-entry', detail: `entry ${gap} is missing` });
  if (columns) problems.push(columns);
  if (hashes !== undefined) problems.push({ index: hashes, kind: 'leaf-hash-mismatch', detail: `entry ${hashes}: stored leaf hash does not match its leaf` });

  const entries = gap ?? size;
  const tree = await rebuildTree(q, entries, pageSize);
  if (tree.problem) problems.push(tree.problem);
  if (problems.length > 0) {
    // The first entry that disagrees; at one index an entry's own fault is named before its hashes'.
    const order: LogProblem['kind'][] = ['missing-entry', 'leaf-mismatch', 'columns-mismatch', 'leaf-hash-mismatch', 'missing-node', 'node-mismatch'];
    problems.sort((a, b) => a.index - b.index || order.indexOf(a.kind) - order.indexOf(b.kind));
    return { entries, ok: false, problem: problems[0]!, rootHash: null };
  }
  return { entries, ok: true, rootHash: tree.root };
}

async function storedSize(q: Queryable): Promise<number> {
  const [row] = await queryRows<{ n: string | number }>(q, sql`select count(*) as n from audit_events`);
  return Number(row?.n ?? 0);
}

/** The first index missing from 0..max, if any. */
async function firstGap(q: Queryable): Promise<number | undefined> {
  const [row] = await queryRows<{ missing: string | number }>(
    q,
    sql`select coalesce(prev, -1) + 1 as missing
        from (select idx, lag(idx) over (order by idx) as prev from audit_events) s
        where idx <> coalesce(prev, -1) + 1
        order by idx limit 1`,
  );
  return row ? Number(row.missing) : undefined;
}

/** The first entry whose columns do not say what its leaf says (compared as JSON values in SQL). */
async function firstColumnsMismatch(q: Queryable): Promise<LogProblem | undefined> {
  const [row] = await queryRows<{ idx: string | number; claimed: string | number | null }>(
    q,
    sql`select idx, (convert_from(leaf, 'UTF8')::jsonb ->> 'index')::bigint as claimed
        from audit_events
        where convert_from(leaf, 'UTF8')::jsonb is distinct from jsonb_build_object(
          'v', 1, 'index', idx,
          'time', to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'actor', jsonb_build_object('sub', actor_sub, 'role', actor_role),
          'action', action, 'subjectId', subject_id, 'content', content)
        order by idx limit 1`,
  );
  if (!row) return undefined;
  const index = Number(row.idx);
  const kind = row.claimed !== null && Number(row.claimed) === index ? 'columns-mismatch' : 'leaf-mismatch';
  return { index, kind, detail: `entry ${index}: stored columns and leaf bytes disagree (${kind})` };
}

/** Fallback when some leaf is not even JSON: the same comparison, page by page, in this process. */
async function slowColumnsCheck(q: Queryable, pageSize: number): Promise<LogProblem | undefined> {
  for (let from = 0; ; ) {
    const rows = await q.select().from(auditEvents).where(gte(auditEvents.index, from)).orderBy(asc(auditEvents.index)).limit(pageSize);
    if (rows.length === 0) return undefined;
    for (const r of rows) {
      const event: AuditEvent = { index: r.index, time: r.recordedAt.toISOString(), actor: { sub: r.actorSub, role: r.actorRole }, action: r.action, subjectId: r.subjectId, content: r.content };
      if (!sameBytes(storedEventLeaf(event), r.leaf)) {
        const kind = leafClaimsIndex(r.leaf) === r.index ? 'columns-mismatch' : 'leaf-mismatch';
        return { index: r.index, kind, detail: `entry ${r.index}: stored columns and leaf bytes disagree (${kind})` };
      }
    }
    from = rows[rows.length - 1]!.index + 1;
  }
}

/** The first entry whose stored level-0 node is not SHA-256(0x00 || leaf). */
async function firstLeafHashMismatch(q: Queryable): Promise<number | undefined> {
  const [row] = await queryRows<{ idx: string | number }>(
    q,
    sql`select e.idx from audit_events e
        left join audit_nodes n on n.level = 0 and n.idx = e.idx
        where n.hash is distinct from sha256(decode('00', 'hex') || e.leaf)
        order by e.idx limit 1`,
  );
  return row ? Number(row.idx) : undefined;
}

/** Rebuilds the tree over the first `entries` leaf hashes and checks every stored interior node. */
async function rebuildTree(q: Queryable, entries: number, pageSize: number): Promise<{ root: Uint8Array; problem?: LogProblem }> {
  let computed: StoredNode[] = [];
  const tree = new MerkleTreeBuilder({ onNode: (id, hash) => id.level > 0 && computed.push({ level: id.level, index: id.index, hash }) });
  const page = (from: number) => {
    const rows = q
      .select({ index: auditNodes.index, hash: auditNodes.hash })
      .from(auditNodes)
      .where(and(eq(auditNodes.level, 0), gte(auditNodes.index, from), lt(auditNodes.index, Math.min(from + pageSize, entries))))
      .orderBy(asc(auditNodes.index))
      .execute();
    rows.catch(() => {}); // awaited below; keeps an abandoned prefetch from going unhandled
    return rows;
  };
  let next = entries > 0 ? page(0) : undefined;
  for (let from = 0; from < entries; from += pageSize) {
    const rows = await next!;
    next = from + pageSize < entries ? page(from + pageSize) : undefined;
    computed = [];
    let expected = from;
    for (const r of rows) {
      if (r.index !== expected) break;
      tree.push(r.hash);
      expected += 1;
    }
    if (expected < Math.min(from + pageSize, entries)) {
      return { root: tree.root(), problem: { index: expected, kind: 'missing-node', detail: `tree node 0/${expected} (the leaf hash of entry ${expected}) is missing` } };
    }
    const stored = await storedNodesFor(q, computed);
    for (const node of computed) {
      const have = stored.get(nodeKey(node));
      const coveredFrom = node.index * 2 ** node.level;
      const span = `entries ${coveredFrom}..${coveredFrom + 2 ** node.level - 1}`;
      if (!have) return { root: tree.root(), problem: { index: coveredFrom, kind: 'missing-node', detail: `tree node ${nodeKey(node)} (${span}) is missing` } };
      if (!sameBytes(have, node.hash)) {
        return { root: tree.root(), problem: { index: coveredFrom, kind: 'node-mismatch', detail: `tree node ${nodeKey(node)} over ${span} does not match the entries` } };
      }
    }
  }
  return { root: tree.root() };
}

function leafClaimsIndex(leaf: Uint8Array): number | undefined {
  try {
    return (JSON.parse(Buffer.from(leaf).toString('utf8')) as { index?: number }).index;
  } catch {
    return undefined;
  }
}

/** Stored hashes of the given nodes: one primary-key range per level. */
export async function storedNodesFor(q: Queryable, nodes: StoredNode[]): Promise<Map<string, Uint8Array>> {
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
