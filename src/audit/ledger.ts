import { type SQL, sql } from 'drizzle-orm';
import type { Database, Db, Queryable, Tx } from '../db/database.ts';
import { type Actor, type EventDraft, eventLeaf, jsonSafe } from './event.ts';
import { MerkleTreeBuilder, leafHash } from './merkle.ts';
import { type StoredEvent, type StoredNode, readFrontier, treeSize, writeAppend } from './log-store.ts';

/**
 * Any fixed number: every Clearframe process appending to one database serialises on it. The same
 * number is in `clearframe_append_at` (migrations/0009).
 */
const AUDIT_APPEND_LOCK = 7_245_118_002;

/** The tree as it stood when read: its size and right edge (the hashes of rootPlan(size)). */
export type LogTip = { size: number; frontier: Uint8Array[] };

/**
 * An append prepared against a tip found the log longer at commit: something changed meanwhile, so
 * whatever was decided from the state at that tip must be decided again. Nothing was written.
 */
export class LogMovedOn extends Error {
  constructor(readonly expectedSize: number) {
    super(`the audit log moved on from ${expectedSize} entries while the change was prepared`);
    this.name = 'LogMovedOn';
  }
}

/** What an append prepared outside the lock hands to the one statement that commits it. */
export interface PreparedAppend {
  /** The event as it will be stored (its index is the tip's size). */
  event: StoredEvent;
  /**
   * A scalar SQL expression with the entry's index as value; evaluating it takes the append lock,
   * checks the size and writes the entry and its nodes. The change's own row embeds it (e.g. as its
   * audit index) so that row, entry and nodes are one statement: one round trip, one commit.
   */
  entryIndex: SQL;
}

export type RecordedEvent = Omit<StoredEvent, 'leaf'>;

/** An event whose content the change may still complete (e.g. a hash known only after signing). */
export type PendingEvent = RecordedEvent & { content: Record<string, unknown> };

/** What a state change gets to work with: its transaction, and a way to record its audit events. */
export interface ChangeContext {
  tx: Tx;
  actor: Actor;
  /**
   * Records an event in this same transaction; its index is final once the change commits. The leaf is
   * made when the change returns, so `content` may be completed until then (and not after).
   */
  record(draft: EventDraft): PendingEvent;
}

type Pending = {
  actor: Actor;
  work: (ctx: ChangeContext) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
};

/**
 * The only way to change state. Each change runs in a database transaction together with its audit
 * events; if either fails, neither exists.
 *
 * Concurrent changes are grouped: one transaction takes the append lock once, runs the changes one after
 * another, then writes all their events and tree nodes together (if one fails, each is run again alone,
 * so it fails alone). Indices stay dense and never fork across processes because the next index is read
 * under the lock, and the primary key on the index would refuse a duplicate anyway.
 */
export class Ledger {
  private queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly database: Database,
    private readonly maxBatch = 64,
  ) {}

  /** For reads outside any change. */
  get db(): Db {
    return this.database.db;
  }

  change<T>(actor: Actor, work: (ctx: ChangeContext) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ actor, work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.runBatch(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Runs a batch in one transaction without per-change savepoints (they cost two round trips each).
   * If any change fails, the whole attempt rolls back and each change is run again on its own, so a
   * failing change still fails alone. A change's work may therefore run twice: it must not keep side
   * effects outside its transaction (none of ours do; each returns what it made).
   */
  private async runBatch(batch: Pending[]): Promise<void> {
    if (batch.length > 1) {
      const together = await this.attempt(batch);
      if (together.ok) {
        batch.forEach((item, i) => item.resolve(together.values[i]));
        return;
      }
    }
    for (const item of batch) {
      const alone = await this.attempt([item]);
      if (alone.ok) item.resolve(alone.values[0]);
      else item.reject(alone.error);
    }
  }

  private async attempt(batch: Pending[]): Promise<{ ok: true; values: unknown[] } | { ok: false; error: unknown }> {
    try {
      let frontier: LogTip | undefined;
      const values = await this.database.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`);
        // Not sent together with the lock: postgres.js may put a statement it has described before ahead
        // of one it has not, and the size must be read after the lock is held (a test caught exactly this).
        const size = await treeSize(tx);
        const events: PendingEvent[] = [];
        const recorderFor = (actor: Actor) => (draft: EventDraft): PendingEvent => {
          const event = {
            index: size + events.length,
            time: new Date().toISOString(),
            actor: { sub: actor.sub, role: actor.role },
            action: draft.action,
            subjectId: draft.subjectId,
            content: typeof draft.content === 'object' && draft.content !== null ? { ...(draft.content as Record<string, unknown>) } : { value: draft.content ?? null },
          };
          events.push(event);
          return event;
        };
        const values: unknown[] = [];
        for (const item of batch) values.push(await item.work({ tx, actor: item.actor, record: recorderFor(item.actor) }));

        if (events.length > 0) {
          // Frozen now: what is hashed is exactly what is stored and served.
          const sealed: StoredEvent[] = events.map((e) => {
            const event = { ...e, content: jsonSafe(e.content) };
            return { ...event, leaf: eventLeaf(event) };
          });
          // Every perfect subtree these leaves complete is stored now, so no node is ever written twice.
          const nodes: StoredNode[] = [];
          const tree = MerkleTreeBuilder.resume(size, await this.frontier(tx, size), {
            onNode: (id, hash) => nodes.push({ level: id.level, index: id.index, hash }),
          });
          for (const e of sealed) tree.push(leafHash(e.leaf));
          await writeAppend(tx, sealed, nodes);
          frontier = { size: size + sealed.length, frontier: tree.peaks() };
        }
        return values;
      });
      if (frontier) this.lastFrontier = frontier;
      return { ok: true, values };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /**
   * The right edge of the tree at `size`. The nodes of a given size never change, so an edge this process
   * committed is right for its size forever; it is used when the size read under the lock is that size.
   * (Only committed edges are kept: an edge is set after its transaction commits, never before.)
   */
  private lastFrontier: LogTip | undefined;

  private async frontier(q: Queryable, size: number): Promise<Uint8Array[]> {
    if (this.lastFrontier?.size === size) return this.lastFrontier.frontier;
    return readFrontier(q, size);
  }

  /** The log as it stands now, for `appendAt`: its size, then its right edge (from memory when known). */
  async tip(): Promise<LogTip> {
    const size = await treeSize(this.database.db);
    return { size, frontier: await this.frontier(this.database.db, size) };
  }

  /**
   * Optimistic append: for a change whose slow part (a C2PA signature, a KMS call, a time-stamp) should
   * not hold the append lock that every writer waits on. The caller reads `tip()`, decides and does its
   * work from the state at that tip, then commits here with ONE statement that embeds `entryIndex` and
   * hands back what it evaluated to (`appendedAt`), e.g. as the row's audit index.
   * That statement takes the lock and writes only if the log still has `tip.size` entries: since every
   * change appends in its own transaction, nothing the caller read can have changed. Otherwise it writes
   * nothing and this throws `LogMovedOn`; the caller then redoes the change with `change()`, under the lock.
   */
  async appendAt<T>(tip: LogTip, actor: Actor, draft: EventDraft, write: (append: PreparedAppend) => Promise<{ value: T; appendedAt: number }>): Promise<T> {
    const content = typeof draft.content === 'object' && draft.content !== null ? draft.content : { value: draft.content ?? null };
    // The time is taken after the tip was read, so it is not earlier than that of any entry before it.
    const body = { index: tip.size, time: new Date().toISOString(), actor: { sub: actor.sub, role: actor.role }, action: draft.action, subjectId: draft.subjectId, content: jsonSafe(content) };
    const event: StoredEvent = { ...body, leaf: eventLeaf(body) };
    const nodes: StoredNode[] = [];
    const tree = MerkleTreeBuilder.resume(tip.size, tip.frontier, { onNode: (id, hash) => nodes.push({ level: id.level, index: id.index, hash }) });
    tree.push(leafHash(event.leaf));
    const hashes = Buffer.alloc(32 * nodes.length);
    nodes.forEach((n, i) => hashes.set(n.hash, 32 * i));
    const entryIndex = sql`(select clearframe_append_at(${tip.size}::int8, ${Buffer.from(event.leaf)}::bytea, ${sql.param(nodes.map((n) => n.level))}::int2[], ${sql.param(nodes.map((n) => n.index))}::int8[], ${hashes}::bytea))`;
    let written: { value: T; appendedAt: number };
    try {
      written = await write({ event, entryIndex });
    } catch (e) {
      if (sqlState(e) === 'CF409') throw new LogMovedOn(tip.size);
      throw e;
    }
    // What the statement says `entryIndex` was: a statement that did not evaluate it appended nothing, and
    // the edge kept for the next append must never include an entry that is not stored.
    if (Number(written.appendedAt) !== tip.size) throw new Error(`appendAt: the statement did not append at ${tip.size} (it says ${written.appendedAt})`);
    this.lastFrontier = { size: tip.size + 1, frontier: tree.peaks() };
    return written.value;
  }
}

/** The SQLSTATE of a database error, from postgres.js or PGlite, directly or as drizzle's cause. */
function sqlState(e: unknown): string | undefined {
  for (let x = e, depth = 0; x && typeof x === 'object' && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
