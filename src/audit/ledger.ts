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
 * Concurrent changes are grouped: one transaction takes the append lock once, runs each change in its
 * own savepoint (a failing change rolls back alone), then writes all their events and tree nodes
 * together. Indices stay dense and never fork across processes because the next index is read under
 * the lock, and the primary key on the index would refuse a duplicate anyway.
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

  private async runBatch(batch: Pending[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      await this.database.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`);
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

        if (batch.length === 1) {
          // Alone in the batch: no savepoint needed, a failure rolls back the whole transaction.
          const only = batch[0]!;
          outcomes.push({ ok: true, value: await only.work({ tx, actor: only.actor, record: recorderFor(only.actor) }) });
        } else {
          for (const item of batch) {
            const mark = events.length;
            try {
              const value = await tx.transaction((sp) =>
                item.work({ tx: sp as Tx, actor: item.actor, record: recorderFor(item.actor) }),
              );
              outcomes.push({ ok: true, value });
            } catch (error) {
              events.length = mark; // its savepoint is rolled back: so are its events
              outcomes.push({ ok: false, error });
            }
          }
        }

        if (events.length > 0) {
          // Frozen now: what is hashed is exactly what is stored and served.
          const sealed: StoredEvent[] = events.map((e) => {
            const event = { ...e, content: jsonSafe(e.content) };
            return { ...event, leaf: eventLeaf(event) };
          });
          // Every perfect subtree these leaves complete is stored now, so no node is ever written twice.
          const nodes: StoredNode[] = [];
          const tree = MerkleTreeBuilder.resume(size, await readFrontier(tx, size), {
            onNode: (id, hash) => nodes.push({ ...id, hash }),
          });
          for (const e of sealed) tree.push(leafHash(e.leaf));
          await writeAppend(tx, sealed, nodes);
        }
      });
    } catch (error) {
      // The transaction itself failed (or the lone change threw): nothing of this batch exists.
      for (const [i, item] of batch.entries()) {
        const o = outcomes[i];
        item.reject(o && !o.ok ? o.error : error);
      }
      return;
    }
    for (const [i, item] of batch.entries()) {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    }
  }
}
