import { availableParallelism } from 'node:os';
import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import { copyBinaryBatches, int8At } from '../db/copy-binary.ts';
import { type Database, type Queryable, queryRows } from '../db/database.ts';
import { HashHelper } from './hash-helper.ts';
import { largestSignedHead } from './log-store.ts';
import { HASH_SIZE, hashRange, leafHashInto, parentsInto, rootPlan } from './merkle.ts';
import { auditEvents, auditNodes } from './tables.ts';

export type LogProblem = {
  /** The first log entry (index) that disagrees, when the fault can be pinned to one. */
  index: number;
  kind: 'missing-entry' | 'leaf-mismatch' | 'leaf-hash-mismatch' | 'node-mismatch' | 'missing-node' | 'rolled-back' | 'signed-head-mismatch';
  detail: string;
};

export type LogVerification = { entries: number; ok: boolean; problem?: LogProblem; rootHash: Uint8Array | null };

/** Where the log is read from: the database, and its COPY stream where it has one (PostgreSQL). */
export type LogSource = { db: Queryable; copyOut?: Database['copyOut'] };

// At one index an entry's own fault is named before its hashes'.
const KIND_ORDER: LogProblem['kind'][] = ['missing-entry', 'leaf-mismatch', 'leaf-hash-mismatch', 'missing-node', 'node-mismatch', 'rolled-back', 'signed-head-mismatch'];

/**
 * Recomputes the whole tree from the stored leaves and compares every stored hash with it; names the
 * first entry that disagrees.
 *
 * The leaf bytes are all an entry stores (migrations/0008), so checking an entry is hashing it. Two
 * streams run at once: the leaves in index order, hashed as they arrive into one buffer of leaf hashes,
 * and every stored node in whatever order the table holds them, each put in its place in a buffer per
 * level (binary COPY on PostgreSQL, pages of SELECTs on PGlite). Then each level of the tree is computed
 * from the level below and compared with the stored one. Every hash is computed here, from the leaves:
 * nothing stored is trusted, and a tampered node does not hide a tampered node above it.
 */
/**
 * `threads`: 2 hashes on a helper thread as well, 1 never does; the answer is the same either way. By
 * default the helper is used from 4,096 entries on machines with more than two cores: on two, PostgreSQL
 * streaming the log needs the second core, and the helper measured 0.99–1.1 × one thread
 * (docs/benchmarks.md).
 *
 * `leafHashes`: where each entry's leaf hash, SHA-256(0x00 || leaf), is computed. 'database' (the default
 * where the log is read by COPY, i.e. PostgreSQL): by PostgreSQL's own `pg_catalog.sha256` beside the
 * stored bytes, so 32 bytes an entry cross the wire instead of the whole leaf (~800 bytes) and the hashing
 * runs on the server's core while this process builds the tree; every level above is still computed
 * here. It detects the same tampering, since a changed, moved or missing row still hashes to something
 * other than its stored node. 'here': every hash in this process, trusting nothing of the server's but the
 * bytes it returns (`clearframe audit verify --hash-here`).
 */
export async function verifyStoredLog(source: LogSource, opts: { pageSize?: number; threads?: 1 | 2; leafHashes?: 'database' | 'here' } = {}): Promise<LogVerification> {
  const pageSize = opts.pageSize ?? 50_000;
  // One statement, one snapshot: how many entries, the highest index, and the highest leaf hash. The log
  // may grow while it is read; everything after is bounded by this size, so entries appended meanwhile
  // are neither checked nor mistaken for faults.
  const [head] = await queryRows<{ n: string | number; m: string | number; k: string | number }>(
    source.db,
    sql`select count(*) as n, coalesce(max(idx), -1) as m,
               (select coalesce(max(idx), -1) from audit_nodes where level = 0) as k
        from audit_events`,
  );
  const stored = Number(head?.n ?? 0);
  const top = Number(head?.m ?? -1) + 1;
  const lastLeafHash = Number(head?.k ?? -1);
  const hashedByDatabase = source.copyOut !== undefined && opts.leafHashes !== 'here';
  const reader = source.copyOut ? copyReader(source.copyOut, top, hashedByDatabase) : pagedReader(source.db, pageSize, top);
  const helped = !hashedByDatabase && (opts.threads === 2 || (opts.threads === undefined && stored >= 4096 && availableParallelism() > 2));
  const helper = helped ? await HashHelper.start() : null;
  try {
    return await verify(source.db, reader, { stored, top, lastLeafHash }, helper, opts.threads === 2 ? 2 : 4096);
  } finally {
    await helper?.close();
  }
}

/** Most jobs the helper thread may have queued; past that this thread hashes the batch itself. */
const HELPER_QUEUE = 3;

async function verify(
  db: Queryable,
  reader: LogReader,
  { stored, top, lastLeafHash }: { stored: number; top: number; lastLeafHash: number },
  helper: HashHelper | null,
  splitFrom: number,
): Promise<LogVerification> {
  // The stored tree as it should be for `stored` entries: level h holds floor(stored / 2^h) nodes.
  const storedLevels: { hashes: Buffer; present: Uint8Array }[] = [];
  for (let width = stored; width > 0; width = Math.floor(width / 2)) {
    storedLevels.push({ hashes: Buffer.alloc(width * HASH_SIZE), present: new Uint8Array(width) });
  }
  // Every computed level, back to back in memory both threads can write: level 0 first, each with room
  // for the level of `stored` entries (the entries read may stop short of it; a prefix keeps its places).
  const shared = new SharedArrayBuffer(Math.max(1, 2 * stored * HASH_SIZE));
  const computed: Buffer[] = [];
  for (let width = stored, at = 0; width > 0; at += width * HASH_SIZE, width = Math.floor(width / 2)) computed.push(Buffer.from(shared, at, width * HASH_SIZE));
  // How many nodes of each level are computed so far. While the entries stream in (and no helper thread
  // hashes leaves out of order), each level is extended as far as the leaves below it allow, so the tree
  // is built while PostgreSQL is still sending: with leaf hashes from the database, this thread would
  // otherwise wait for the stream and then hash every level.
  const done = computed.map(() => 0);
  const extend = (leaves: number) => {
    done[0] = leaves;
    for (let h = 0; h + 1 < computed.length; h++) {
      const parents = Math.floor(done[h]! / 2);
      if (parents > done[h + 1]!) parentsInto(computed[h]!, computed[h + 1]!, done[h + 1]!, parents);
      done[h + 1] = Math.max(done[h + 1]!, parents);
    }
  };

  const problems: LogProblem[] = [];
  const leafHashes = computed[0] ?? Buffer.alloc(0);
  let entries = 0;
  let gap = false;
  const seen = new Uint8Array(stored); // which entries arrived, when they arrive out of order
  let scratch: Buffer = Buffer.allocUnsafe(4096);
  const jobs: Promise<void>[] = [];
  await Promise.all([
    reader.entries((batch) => {
      if (batch.hashed) {
        // Leaf hashes computed by the database, in the table's own order (a sequential scan): each goes to
        // its index's place (a wrong length stays all zeroes, a mismatch), and the tree grows over the
        // dense prefix found so far. Whatever is missing is the first index never seen.
        for (let r = 0; r < batch.count; r++) {
          const index = batch.indices[r]!;
          if (!(index >= 0 && index < stored)) continue; // past a gap: the gap is what gets named
          if (batch.ends[r]! - batch.starts[r]! === HASH_SIZE) batch.buf.copy(leafHashes, index * HASH_SIZE, batch.starts[r]!, batch.ends[r]!);
          seen[index] = 1;
        }
        while (entries < stored && seen[entries]) entries++;
        extend(entries);
        return true;
      }
      // The run of entries that continues the log densely; a gap ends the reading.
      let run = 0;
      while (run < batch.count && batch.indices[run] === entries + run && entries + run < stored) run++;
      if (run > 0) {
        if (helper && helper.outstanding < HELPER_QUEUE) {
          // The run's bytes are copied (the received buffer is not ours to hand over), with the leaves' places.
          const from = batch.starts[0]!;
          const bytes = new Uint8Array(batch.ends[run - 1]! - from);
          bytes.set(batch.buf.subarray(from, batch.ends[run - 1]!));
          const places = new Int32Array(2 * run);
          for (let i = 0; i < run; i++) {
            places[2 * i] = batch.starts[i]! - from;
            places[2 * i + 1] = batch.ends[i]! - from;
          }
          jobs.push(helper.leaves(bytes, places, shared, entries * HASH_SIZE));
        } else {
          for (let i = 0; i < run; i++) scratch = leafHashInto(batch.buf, batch.starts[i]!, batch.ends[i]!, leafHashes, (entries + i) * HASH_SIZE, scratch);
        }
        entries += run;
        if (jobs.length === 0) extend(entries);
      }
      if (run < batch.count) gap = true;
      return !gap;
    }),
    reader.nodes((level, index, buf, start, length) => {
      const at = storedLevels[level];
      // Nodes beyond the tree of `stored` entries prove nothing here; a wrong-sized hash is a mismatch.
      if (!at || index < 0 || index >= at.present.length) return;
      at.present[index] = 1;
      if (length === HASH_SIZE) buf.copy(at.hashes, index * HASH_SIZE, start, start + HASH_SIZE);
    }),
  ]);
  await Promise.all(jobs);
  if (entries < stored) gap = true;
  // A leaf hash stored past the last entry: the log lost its tail (the entries were removed, the tree was not).
  if (gap || lastLeafHash >= top) problems.push({ index: entries, kind: 'missing-entry', detail: `entry ${entries} is missing` });

  // Each level computed from the one below and compared with the stored one. A wrong node makes every
  // computed node above it differ from the stored ones too; only a node whose own children agree is a
  // fault of its own, and the lowest such fault names the entries.
  const levels: Buffer[] = [];
  let width = entries;
  let below: Uint8Array | undefined;
  for (let height = 0; width > 0; height++) {
    const level = computed[height]!.subarray(0, width * HASH_SIZE);
    levels.push(level);
    const have = storedLevels[height]!;
    const differs = new Uint8Array(width);
    // The whole level at once first (one comparison instead of one per node); node by node only if it differs.
    const whole = have.present.subarray(0, width).indexOf(0) === -1 && level.equals(have.hashes.subarray(0, width * HASH_SIZE));
    for (let i = 0; !whole && i < width; i++) {
      if (!have.present[i] || level.compare(have.hashes, i * HASH_SIZE, (i + 1) * HASH_SIZE, i * HASH_SIZE, (i + 1) * HASH_SIZE) !== 0) differs[i] = 1;
    }
    for (let i = differs.indexOf(1); i !== -1; i = differs.indexOf(1, i + 1)) {
      if (below && (below[2 * i] || below[2 * i + 1])) continue;
      const problem = nodeProblem(height, i, have.present[i] ? 'node-mismatch' : 'missing-node');
      problems.push(height === 0 ? await classifyLeafProblem(db, problem) : problem);
      break;
    }
    below = differs;
    // What is left of the level above (all of it when the leaves came out of order): its first half on
    // the helper thread and the rest here. A level is complete once its nodes over `entries` are.
    const parentsWidth = Math.floor(width / 2);
    const from = Math.min(done[height + 1] ?? 0, parentsWidth);
    if (from < parentsWidth) {
      const parents = computed[height + 1]!;
      const split = from === 0 && helper && parentsWidth >= splitFrom ? Math.floor(parentsWidth / 2) : from;
      const helped = split > from ? helper!.parents(shared, level.byteOffset, width * HASH_SIZE, parents.byteOffset, parentsWidth * HASH_SIZE, 0, split) : undefined;
      parentsInto(level, parents, split, parentsWidth);
      await helped;
    }
    width = parentsWidth;
  }

  // The tree as recomputed, against the largest head the service signed: a tree that does not reach it,
  // or has another root at its size, was rolled back or rewritten consistently, which no stored hash shows.
  const rootAt = (size: number) => hashRange(rootPlan(size).map((id) => new Uint8Array(levels[id.level]!.subarray(id.index * HASH_SIZE, (id.index + 1) * HASH_SIZE))));
  const signed = await largestSignedHead(db);
  if (signed && signed.treeSize > entries) {
    problems.push({ index: entries, kind: 'rolled-back', detail: `rolled back from ${signed.treeSize} to ${entries}: the service signed a tree of ${signed.treeSize} entries` });
  } else if (signed && problems.length === 0 && !Buffer.from(rootAt(signed.treeSize)).equals(Buffer.from(signed.rootHash))) {
    problems.push({
      index: Math.max(0, signed.treeSize - 1),
      kind: 'signed-head-mismatch',
      detail: `the tree of ${signed.treeSize} entries is not the one the service signed at that size: the log was rewritten`,
    });
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.index - b.index || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
    return { entries, ok: false, problem: problems[0]!, rootHash: null };
  }
  return { entries, ok: true, rootHash: rootAt(entries) };
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
// Readers: callbacks get bytes in place (buffer, start, end or length), never a copy or an object per row.

/**
 * Rows of audit_events: row i has index indices[i] and its leaf is buf[starts[i] .. ends[i]); with
 * `hashed`, that is its leaf hash as the database computed it, and the rows come in any order.
 */
type EntryBatch = { count: number; indices: Float64Array; starts: Int32Array; ends: Int32Array; buf: Buffer; hashed?: boolean };

type LogReader = {
  /** Entries batch by batch, until `onBatch` returns false: in index order, unless they come hashed. */
  entries(onBatch: (batch: EntryBatch) => boolean): Promise<void>;
  /** Every stored node, in any order. */
  nodes(onNode: (level: number, index: number, buf: Buffer, start: number, length: number) => void): Promise<void>;
};

/** Both readers see the tree of `top` entries only: its entries, and the nodes that exist at that size. */
function copyReader(copyOut: NonNullable<Database['copyOut']>, top: number, hashLeaves: boolean): LogReader {
  // Schema-qualified, so no function of another schema on the search path can stand in for it.
  const leaf = hashLeaves ? `pg_catalog.sha256('\\x00'::bytea || leaf)` : 'leaf';
  return {
    async entries(onBatch) {
      // Hashed by the database, the rows come in the table's order (a sequential scan: 1.8 s against 2.9 s in
      // index order for 1,000,000 entries here) and are placed by index; leaves for hashing here come in
      // index order, which the helper thread's runs need.
      const copy = await copyOut(`copy (select idx, ${leaf} from audit_events where idx < ${Number(top)}${hashLeaves ? '' : ' order by idx'}) to stdout (format binary)`);
      for await (const batch of copyBinaryBatches(copy, 2)) {
        const indices = new Float64Array(batch.rows);
        const starts = new Int32Array(batch.rows);
        const ends = new Int32Array(batch.rows);
        for (let r = 0; r < batch.rows; r++) {
          indices[r] = int8At(batch, r, 0);
          starts[r] = batch.offsets[2 * r + 1]!;
          ends[r] = starts[r]! + Math.max(0, batch.lengths[2 * r + 1]!);
        }
        if (!onBatch({ count: batch.rows, indices, starts, ends, buf: batch.buf, hashed: hashLeaves })) return;
      }
    },
    async nodes(onNode) {
      // No ORDER BY: the table in its own order is a sequential scan, the cheapest read there is. Node
      // (level, idx) exists in a tree of `top` leaves exactly when idx < top >> level.
      const copy = await copyOut(`copy (select level, idx, hash from audit_nodes where idx < (${Number(top)}::bigint >> level)) to stdout (format binary)`);
      for await (const batch of copyBinaryBatches(copy, 3)) {
        for (let r = 0; r < batch.rows; r++) {
          const k = 3 * r;
          if (batch.lengths[k] !== 2) throw new Error('expected an int2 level');
          onNode(batch.buf.readInt16BE(batch.offsets[k]!), int8At(batch, r, 1), batch.buf, batch.offsets[k + 2]!, batch.lengths[k + 2]!);
        }
      }
    },
  };
}

function pagedReader(db: Queryable, pageSize: number, top: number): LogReader {
  return {
    async entries(onBatch) {
      for (let from = Number.MIN_SAFE_INTEGER; ; ) {
        const rows = await db
          .select({ index: auditEvents.index, leaf: auditEvents.leaf })
          .from(auditEvents)
          .where(and(gte(auditEvents.index, from), lt(auditEvents.index, top)))
          .orderBy(asc(auditEvents.index))
          .limit(pageSize);
        const buf = Buffer.concat(rows.map((r) => r.leaf));
        const starts = new Int32Array(rows.length);
        const ends = new Int32Array(rows.length);
        rows.forEach((r, i) => {
          starts[i] = i === 0 ? 0 : ends[i - 1]!;
          ends[i] = starts[i]! + r.leaf.byteLength;
        });
        if (rows.length > 0 && !onBatch({ count: rows.length, indices: Float64Array.from(rows, (r) => r.index), starts, ends, buf })) return;
        if (rows.length < pageSize) return;
        from = rows[rows.length - 1]!.index + 1;
      }
    },
    async nodes(onNode) {
      for (let after = { level: -1, index: 0 }; ; ) {
        const rows = await db
          .select()
          .from(auditNodes)
          .where(sql`(${auditNodes.level}, ${auditNodes.index}) > (${after.level}, ${after.index}) and ${auditNodes.index} < (${top}::bigint >> ${auditNodes.level})`)
          .orderBy(asc(auditNodes.level), asc(auditNodes.index))
          .limit(pageSize);
        for (const r of rows) {
          const hash = Buffer.from(r.hash.buffer, r.hash.byteOffset, r.hash.byteLength);
          onNode(r.level, r.index, hash, 0, hash.length);
        }
        if (rows.length < pageSize) return;
        after = { level: rows[rows.length - 1]!.level, index: rows[rows.length - 1]!.index };
      }
    },
  };
}
