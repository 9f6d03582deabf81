import { and, asc, eq, gte, sql } from 'drizzle-orm';
import { type Database, type Queryable, queryRows } from '../db/database.ts';
import { copyBinaryTuples, int8 } from '../db/copy-binary.ts';
import { HASH_SIZE, hashRange, leafHashInto, parentLevel, rootPlan } from './merkle.ts';
import { auditEvents, auditNodes } from './tables.ts';

export type LogProblem = {
  /** The first log entry (index) that disagrees, when the fault can be pinned to one. */
  index: number;
  kind: 'missing-entry' | 'leaf-mismatch' | 'leaf-hash-mismatch' | 'node-mismatch' | 'missing-node';
  detail: string;
};

export type LogVerification = { entries: number; ok: boolean; problem?: LogProblem; rootHash: Uint8Array | null };

/** Where the log is read from: the database, and its COPY stream where it has one (PostgreSQL). */
export type LogSource = { db: Queryable; copyOut?: Database['copyOut'] };

/** An entry's leaf, or a stored node's hash, by index; `bytes` may be a view valid until the next batch. */
type Row = { index: number; bytes: Uint8Array };

// At one index an entry's own fault is named before its hashes'.
const KIND_ORDER: LogProblem['kind'][] = ['missing-entry', 'leaf-mismatch', 'leaf-hash-mismatch', 'missing-node', 'node-mismatch'];

/**
 * Recomputes the whole tree from the stored leaves and compares every stored hash with it; names the
 * first entry that disagrees.
 *
 * The leaf bytes are all an entry stores (migrations/0008), so checking an entry is hashing it. The
 * leaves arrive in index order (binary COPY on PostgreSQL, pages of SELECTs on PGlite) and are hashed as
 * they come, into one buffer of leaf hashes; then each level of the tree is computed from the level
 * below and compared with the stored level, one buffer at a time. Every hash is computed here, from the
 * leaves: nothing stored is trusted, and a tampered node does not hide a tampered node above it.
 */
export async function verifyStoredLog(source: LogSource, opts: { pageSize?: number } = {}): Promise<LogVerification> {
  const pageSize = opts.pageSize ?? 50_000;
  const reader = source.copyOut ? copyReader(source.copyOut) : pagedReader(source.db, pageSize);
  const [count] = await queryRows<{ n: string | number }>(source.db, sql`select count(*) as n from audit_events`);
  const stored = Number(count?.n ?? 0);

  // 1. Leaves: dense indices from 0, each hashed into level 0.
  const problems: LogProblem[] = [];
  let level: Buffer = Buffer.allocUnsafe(stored * HASH_SIZE);
  let entries = 0;
  let scratch: Buffer = Buffer.allocUnsafe(4096);
  read: for await (const rows of reader.entries()) {
    for (const row of rows) {
      if (row.index !== entries) {
        problems.push({ index: entries, kind: 'missing-entry', detail: `entry ${entries} is missing` });
        break read;
      }
      scratch = leafHashInto(row.bytes, level, entries * HASH_SIZE, scratch);
      entries += 1;
    }
  }
  level = level.subarray(0, entries * HASH_SIZE);

  // 2. Levels: the stored nodes of each level against the ones computed from the leaves. A wrong node
  // makes every computed node above it differ from the stored ones too; only a node whose own children
  // agree is a fault of its own, and the lowest such fault names the entries.
  const levels: Buffer[] = [];
  let below: Uint8Array | undefined;
  for (let height = 0; level.length > 0; height++) {
    levels.push(level);
    const { differs, missing } = await compareLevel(reader, height, level);
    for (let i = differs.indexOf(1); i !== -1; i = differs.indexOf(1, i + 1)) {
      if (below && (below[2 * i] || below[2 * i + 1])) continue;
      const problem = nodeProblem(height, i, i >= missing ? 'missing-node' : 'node-mismatch');
      problems.push(height === 0 ? await classifyLeafProblem(source.db, problem) : problem);
      break;
    }
    below = differs;
    level = parentLevel(level);
  }

  if (problems.length > 0) {
    problems.sort((a, b) => a.index - b.index || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
    return { entries, ok: false, problem: problems[0]!, rootHash: null };
  }
  const root = hashRange(rootPlan(entries).map((id) => new Uint8Array(levels[id.level]!.subarray(id.index * HASH_SIZE, (id.index + 1) * HASH_SIZE))));
  return { entries, ok: true, rootHash: root };
}

/**
 * Which stored nodes of `height` differ from the computed ones (1 = differs or missing), and the index
 * of the first missing one (nodes after a gap are all counted as differing).
 */
async function compareLevel(reader: LogReader, height: number, computed: Buffer): Promise<{ differs: Uint8Array; missing: number }> {
  const count = computed.length / HASH_SIZE;
  const differs = new Uint8Array(count);
  let expected = 0;
  scan: for await (const rows of reader.nodes(height, count)) {
    for (const row of rows) {
      if (row.index !== expected) break scan;
      const at = expected * HASH_SIZE;
      if (row.bytes.length !== HASH_SIZE || computed.compare(row.bytes, 0, HASH_SIZE, at, at + HASH_SIZE) !== 0) differs[expected] = 1;
      expected += 1;
    }
  }
  differs.fill(1, expected);
  return { differs, missing: expected };
}

function nodeProblem(height: number, index: number, kind: 'missing-node' | 'node-mismatch'): LogProblem {
  const from = index * 2 ** height;
  const span = height === 0 ? `the leaf hash of entry ${from}` : `entries ${from}..${from + 2 ** height - 1}`;
  const what = kind === 'missing-node' ? 'is missing' : height === 0 ? 'does not match the entry' : 'does not match the entries';
  return { index: from, kind, detail: `tree node ${height}/${index} (${span}) ${what}` };
}

/**
 * A stored leaf hash that disagrees: either the entry was changed after it was logged, or it holds
 * another entry's leaf (moved or renumbered), which its own leaf says, since a leaf includes its index.
 */
async function classifyLeafProblem(db: Queryable, problem: LogProblem): Promise<LogProblem> {
  if (problem.kind === 'missing-node') return problem;
  const [row] = await db.select({ leaf: auditEvents.leaf }).from(auditEvents).where(eq(auditEvents.index, problem.index));
  const claimed = row ? leafClaimsIndex(row.leaf) : undefined;
  if (claimed !== undefined && claimed !== problem.index) {
    return { index: problem.index, kind: 'leaf-mismatch', detail: `entry ${problem.index} holds the leaf of entry ${claimed} (moved or renumbered)` };
  }
  return { index: problem.index, kind: 'leaf-hash-mismatch', detail: `entry ${problem.index} was changed after it was logged: its leaf no longer hashes to the tree's leaf hash` };
}

function leafClaimsIndex(leaf: Uint8Array): number | undefined {
  try {
    const claimed = (JSON.parse(Buffer.from(leaf).toString('utf8')) as { index?: unknown }).index;
    return typeof claimed === 'number' ? claimed : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Readers: entries and the nodes of one level, in index order, in batches.

type LogReader = {
  entries(): AsyncIterable<Row[]>;
  nodes(height: number, count: number): AsyncIterable<Row[]>;
};

function copyReader(copyOut: NonNullable<Database['copyOut']>): LogReader {
  async function* rows(statement: string): AsyncIterable<Row[]> {
    for await (const tuples of copyBinaryTuples(await copyOut(statement))) {
      yield tuples.map((t) => ({ index: int8(t[0]!), bytes: t[1]! }));
    }
  }
  return {
    entries: () => rows('copy (select idx, leaf from audit_events order by idx) to stdout (format binary)'),
    nodes: (height, count) =>
      rows(`copy (select idx, hash from audit_nodes where level = ${Number(height)} and idx < ${Number(count)} order by idx) to stdout (format binary)`),
  };
}

function pagedReader(db: Queryable, pageSize: number): LogReader {
  return {
    async *entries() {
      for (let from: number | undefined = Number.MIN_SAFE_INTEGER; from !== undefined; ) {
        const rows = await db.select({ index: auditEvents.index, bytes: auditEvents.leaf }).from(auditEvents).where(gte(auditEvents.index, from)).orderBy(asc(auditEvents.index)).limit(pageSize);
        from = rows.length === pageSize ? rows[rows.length - 1]!.index + 1 : undefined;
        if (rows.length > 0) yield rows;
      }
    },
    async *nodes(height, count) {
      for (let from: number | undefined = 0; from !== undefined && from < count; ) {
        const rows = await db
          .select({ index: auditNodes.index, bytes: auditNodes.hash })
          .from(auditNodes)
          .where(and(eq(auditNodes.level, height), gte(auditNodes.index, from)))
          .orderBy(asc(auditNodes.index))
          .limit(Math.min(pageSize, count - from));
        from = rows.length === pageSize ? rows[rows.length - 1]!.index + 1 : undefined;
        if (rows.length > 0) yield rows;
      }
    },
  };
}
