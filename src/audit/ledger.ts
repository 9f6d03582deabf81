import { sql } from 'drizzle-orm';
import type { Database, Db, Tx } from '../db/database.ts';
import { type Actor, type EventDraft, eventLeaf, jsonSafe } from './event.ts';
import { MerkleTreeBuilder, leafHash } from './merkle.ts';
import { type StoredEvent, type StoredNode, readFrontier, treeSize, writeAppend } from './log-store.ts';

/** Any fixed number: every Clearframe process appending to one database serialises on it. */
const AUDIT_APPEND_LOCK = 7_245_118_002;

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
          this.nextFrontier = { size: size + sealed.length, hashes: tree.peaks() };
        }
        return values;
      });
      this.lastFrontier = this.nextFrontier;
      return { ok: true, values };
    } catch (error) {
      this.nextFrontier = undefined;
      return { ok: false, error };
    }
  }

  /**
   * The right edge of the tree at `size`. Nodes of a given size never change, so the edge this process
   * wrote last is still right if no other process appended since (the size read under the lock says so).
   */
  private lastFrontier: { size: number; hashes: Uint8Array[] } | undefined;
  private nextFrontier: { size: number; hashes: Uint8Array[] } | undefined;

  private async frontier(tx: Tx, size: number): Promise<Uint8Array[]> {
    if (this.lastFrontier?.size === size) return this.lastFrontier.hashes;
    return readFrontier(tx, size);
  }
}
