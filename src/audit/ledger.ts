import { sql } from 'drizzle-orm';
import { type Database, type Db, type Queryable, queryRowsPrepared, type Tx } from '../db/database.ts';
import { type Actor, type EventDraft, jsonSafe, storedEventLeaf } from './event.ts';
import { readFrontier, type StoredEvent, type StoredNode, treeSize, writeAppend } from './log-store.ts';
import { leafHash, MerkleTreeBuilder } from './merkle.ts';

// The append lock is advisory lock 7245118002, taken only inside the database: by clearframe_append_lock
// (migrations/0010, a batch's first statement) and clearframe_append_at (0009, an optimistic append). Every
// Clearframe process appending to one database serialises on it.

/** Transactions of this process at a time: one holding the append lock, one waiting for it. */
const LANES = 2;

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
   * A scalar SQL expression with the entry's index as value, its parameters numbered from `first`;
   * evaluating it takes the append lock, checks the size and writes the entry and its nodes. The change's
   * own row embeds it (e.g. as its audit index) so that row, entry and nodes are one statement: one round
   * trip, one commit. Its text is the same for every append, so the statement is written once.
   */
  entryIndexText(first: number): string;
  /** The expression's five parameters, to follow the statement's own, in order. */
  entryIndexParams: readonly unknown[];
}

/** An entry index handed out ahead of the log (`Ledger.reserveIndex`). */
export interface IndexReservation {
  /** The entry's index, if every reservation before it commits. */
  readonly index: number;
  /** The tip at `index` once the reservations before it have committed; LogMovedOn if one did not, or the log moved on. */
  tip(): Promise<LogTip>;
  /** Whether the append at `index` committed: called once on every path. */
  settle(committed: boolean): void;
}

export type RecordedEvent = Omit<StoredEvent, 'leaf'>;

/**
 * Run inside a change's transaction, after its events are written and before it commits, with the events
 * of the watched actions (in log order): what must commit with the change or not at all (a notification's
 * outbox row). The composition root sets it (`Ledger.watch`), so no capability here knows who listens.
 * Appends made with `appendAt` (one statement) are not watched.
 */
export type RecordedEventHook = (tx: Tx, events: readonly StoredEvent[]) => Promise<void>;

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

export type ChangeOptions = {
  /**
   * What the change reads to decide and then writes, as keys of the caller's choosing (e.g.
   * `asset-content:<production>:<sha256>` for a registration, `asset:<id>` for a license version). In a
   * batch, changes that name their keys and share none with each other run side by side: their statements
   * are sent together on the batch's connection instead of one round trip after another. A change that
   * names no keys runs alone, after the changes before it and before the ones after it, as every change
   * did before keys existed. Naming keys is a promise: the change's outcome does not depend on what any
   * change with other keys writes in the same transaction.
   */
  touches?: readonly string[];
};

type Pending = {
  actor: Actor;
  touches: readonly string[];
  work: (ctx: ChangeContext) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
};

/**
 * The only way to change state. Each change runs in a database transaction together with its audit
 * events; if either fails, neither exists.
 *
 * Concurrent changes are grouped: one transaction takes the append lock once, runs the changes (one after
 * another, or side by side where they say they touch different things: `ChangeOptions.touches`), then
 * writes all their events and tree nodes together (if one fails, each is run again alone, so it fails
 * alone). Indices stay dense and never fork across processes because the next index is read
 * under the lock, and the primary key on the index would refuse a duplicate anyway.
 */
export class Ledger {
  private queue: Pending[] = [];

  constructor(
    private readonly database: Database,
    private readonly maxBatch = 64,
  ) {}

  private watchers: { actions: ReadonlySet<string>; hook: RecordedEventHook }[] = [];

  /** Calls `hook` in the transaction of every change that records one of `actions` (see RecordedEventHook). */
  watch(actions: readonly string[], hook: RecordedEventHook): void {
    this.watchers.push({ actions: new Set(actions), hook });
  }

  /** For reads outside any change. */
  get db(): Db {
    return this.database.db;
  }

  change<T>(actor: Actor, work: (ctx: ChangeContext) => Promise<T>, opts: ChangeOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ actor, touches: opts.touches ?? [], work, resolve: resolve as (v: unknown) => void, reject });
      if (this.lanes < LANES && this.waiting === 0) void this.lane();
    });
  }

  /** Lanes running: each opens a transaction, waits for the append lock, then takes what is queued. */
  private lanes = 0;
  /** Lanes whose transaction has not yet taken its changes: they will take these too. */
  private waiting = 0;

  /**
   * Batches one after another. With two lanes, the next batch's transaction is already open and waiting
   * for the lock while this one runs, so the lock passes on without a round trip of BEGIN and lock
   * request in between; the changes it runs are the ones queued by the time it holds the lock.
   */
  private async lane(): Promise<void> {
    this.lanes++;
    try {
      // A lane that is already waiting will take what is queued; this one is not needed then.
      while (this.queue.length > 0 && this.waiting === 0) await this.runBatch();
    } finally {
      this.lanes--;
    }
  }

  /**
   * Runs a batch in one transaction without per-change savepoints (they cost two round trips each).
   * If any change fails, the whole attempt rolls back and each change is run again on its own, so a
   * failing change still fails alone. A change's work may therefore run twice: it must not keep side
   * effects outside its transaction (none of ours do; each returns what it made).
   */
  private async runBatch(): Promise<void> {
    this.waiting++;
    let taken = false;
    const together = await this.attempt(() => {
      taken = true;
      this.waiting--;
      return this.queue.splice(0, this.maxBatch);
    }).finally(() => {
      if (!taken) this.waiting--;
    });
    if (together.ok) {
      for (const [i, item] of together.batch.entries()) item.resolve(together.values[i]);
      return;
    }
    if (together.batch.length === 1) {
      together.batch[0]!.reject(together.error);
      return;
    }
    if (together.batch.length === 0) {
      // It failed before it held the lock (the database refused the transaction): what it would have
      // taken fails with it, rather than waiting on a database that does not answer.
      for (const item of this.queue.splice(0, this.maxBatch)) item.reject(together.error);
      return;
    }
    for (const item of together.batch) {
      const alone = await this.attempt(() => [item]);
      if (alone.ok) item.resolve(alone.values[0]);
      else item.reject(alone.error);
    }
  }

  /** Settles once the transaction that last took the append lock in this process has ended. */
  private lockHolder: Promise<void> = Promise.resolve();

  /**
   * One transaction: the append lock and the log's size, then the changes `take` hands over (taken only
   * once the lock is held, so a waiting lane gets everything queued meanwhile), their events and nodes.
   */
  private async attempt(take: () => Pending[]): Promise<{ batch: Pending[] } & ({ ok: true; values: unknown[] } | { ok: false; error: unknown })> {
    let batch: Pending[] = [];
    let ended!: () => void;
    const end = new Promise<void>((resolve) => (ended = resolve));
    try {
      let frontier: LogTip | undefined;
      const values = await this.database.db.transaction(async (tx) => {
        // The lock, then the size read under it (clearframe_append_lock, migrations/0010): one round trip.
        const [locked] = await queryRowsPrepared<{ size: string | number }>(tx, sql`select clearframe_append_lock() as size`, 'append_lock');
        const size = Number(locked!.size);
        // The previous holder has released the lock, so its transaction is over in the database; once its
        // outcome is known here too, its tree edge (if it committed) is the one to resume from.
        const previous = this.lockHolder;
        this.lockHolder = end;
        await previous;
        batch = take();
        const events: PendingEvent[] = [];
        const recorderFor =
          (actor: Actor) =>
          (draft: EventDraft): PendingEvent => {
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
        const run = (item: Pending) => item.work({ tx, actor: item.actor, record: recorderFor(item.actor) });
        for (const wave of sideBySide(batch)) {
          if (wave.length === 1) {
            values.push(await run(wave[0]!));
            continue;
          }
          // Every change of the wave settles before the transaction is given up: none may still be sending
          // statements on the connection when the rollback goes out.
          const settled = await Promise.allSettled(wave.map(run));
          for (const s of settled) if (s.status === 'rejected') throw s.reason;
          for (const s of settled) values.push((s as PromiseFulfilledResult<unknown>).value);
        }

        if (events.length > 0) {
          // Frozen now: what is hashed is exactly what is stored and served.
          const sealed: StoredEvent[] = events.map((e) => {
            const event = { ...e, content: jsonSafe(e.content) };
            return { ...event, leaf: storedEventLeaf(event) };
          });
          // Every perfect subtree these leaves complete is stored now, so no node is ever written twice.
          const nodes: StoredNode[] = [];
          const tree = MerkleTreeBuilder.resume(size, await this.frontier(tx, size), {
            onNode: (id, hash) => nodes.push({ level: id.level, index: id.index, hash }),
          });
          for (const e of sealed) tree.push(leafHash(e.leaf));
          await writeAppend(tx, sealed, nodes);
          for (const w of this.watchers) {
            const watched = sealed.filter((e) => w.actions.has(e.action));
            if (watched.length > 0) await w.hook(tx, watched);
          }
          frontier = { size: size + sealed.length, frontier: tree.peaks() };
        }
        return values;
      });
      if (frontier) this.remember(frontier);
      return { batch, ok: true, values };
    } catch (error) {
      return { batch, ok: false, error };
    } finally {
      ended();
    }
  }

  /**
   * The right edge of the tree at `size`. The nodes of a given size never change, so an edge this process
   * committed (or read) is right for its size forever; it is used when the size read under the lock is
   * that size. (Only committed edges are kept: an edge is set after its transaction commits, never before.)
   */
  private lastFrontier: LogTip | undefined;

  /** Keeps the longest committed edge seen: answers may arrive out of order, and the log only grows. */
  private remember(tip: LogTip): void {
    if (!this.lastFrontier || tip.size >= this.lastFrontier.size) this.lastFrontier = tip;
  }

  private async frontier(q: Queryable, size: number): Promise<Uint8Array[]> {
    if (this.lastFrontier?.size === size) return this.lastFrontier.frontier;
    return readFrontier(q, size);
  }

  /** The log as it stands now, for `appendAt`: its size, then its right edge (from memory when known). */
  async tip(): Promise<LogTip> {
    const size = await treeSize(this.database.db);
    const tip = { size, frontier: await this.frontier(this.database.db, size) };
    this.remember(tip);
    return tip;
  }

  /**
   * The longest tip this process has committed or read, without asking: the log had at least that size
   * once, so whatever is read after this call sees at least that state. Another process may have appended
   * since; `appendAt` then refuses, so a caller that wants to know early compares it with `tip()`.
   */
  rememberedTip(): LogTip | undefined {
    return this.lastFrontier;
  }

  /**
   * An index for an optimistic append made before the log reaches it, so that several slow changes (C2PA
   * signs) can work side by side, each knowing its own entry's index: the first from `base` (the tip the
   * caller read, or the last one this process knows), the next one after it, and so on. Each commits with
   * `appendAt(await reservation.tip(), …)`, which waits until every reservation before it has committed and
   * gives the tip at its index; if one of those did not commit, or anything else appended meanwhile, it
   * throws LogMovedOn instead (the caller redoes the change under the lock, as after any LogMovedOn).
   * Whatever a change decided from a state read at N entries still holds at its index N + k when the
   * entries between are the reservations before it: the chain commits only as a whole prefix.
   * Every reservation is settled once, committed or not, else the ones after it wait for ever.
   */
  reserveIndex(base: LogTip): IndexReservation {
    let chain = this.chain;
    // A new chain when none is in flight, or when the log is already past this one (its signs will not commit).
    if (!chain || this.reserved === 0 || base.size > chain.next) {
      chain = { generation: (chain?.generation ?? 0) + 1, next: Math.max(base.size, this.lastFrontier?.size ?? 0), last: Promise.resolve(true) };
      this.chain = chain;
    }
    const index = chain.next++;
    const before = chain.last;
    const generation = chain.generation;
    let settle!: (committed: boolean) => void;
    const mine = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    chain.last = before.then((ok) => (ok ? mine : false));
    this.reserved++;
    let settled = false;
    return {
      index,
      tip: async () => {
        if (!(await before)) throw new LogMovedOn(index);
        const tip = this.lastFrontier;
        if (!tip || tip.size !== index) throw new LogMovedOn(index);
        return tip;
      },
      settle: (committed) => {
        if (settled) return;
        settled = true;
        this.reserved--;
        // A gap at this index: the chain goes on from here, after the ones before it (those after it fail).
        if (!committed && this.chain?.generation === generation) this.chain = { generation: generation + 1, next: index, last: before };
        settle(committed);
      },
    };
  }

  private chain: { generation: number; next: number; last: Promise<boolean> } | undefined;
  /** Reservations not yet settled. */
  private reserved = 0;

  /**
   * Optimistic append: for a change whose slow part (a C2PA signature, a KMS call, a time-stamp) should
   * not hold the append lock that every writer waits on. The caller reads `tip()`, decides and does its
   * work from the state at that tip, then commits here with ONE statement that embeds `entryIndexText` and
   * hands back what it evaluated to (`appendedAt`), e.g. as the row's audit index.
   * That statement takes the lock and writes only if the log still has `tip.size` entries: since every
   * change appends in its own transaction, nothing the caller read can have changed. Otherwise it writes
   * nothing and this throws `LogMovedOn`; the caller then redoes the change with `change()`, under the lock.
   */
  async appendAt<T>(tip: LogTip, actor: Actor, draft: EventDraft, write: (append: PreparedAppend) => Promise<{ value: T; appendedAt: number }>): Promise<T> {
    const content = typeof draft.content === 'object' && draft.content !== null ? draft.content : { value: draft.content ?? null };
    // The time is taken after the tip was read, so it is not earlier than that of any entry before it.
    const body = {
      index: tip.size,
      time: new Date().toISOString(),
      actor: { sub: actor.sub, role: actor.role },
      action: draft.action,
      subjectId: draft.subjectId,
      content: jsonSafe(content),
    };
    const event: StoredEvent = { ...body, leaf: storedEventLeaf(body) };
    const nodes: StoredNode[] = [];
    const tree = MerkleTreeBuilder.resume(tip.size, tip.frontier, { onNode: (id, hash) => nodes.push({ level: id.level, index: id.index, hash }) });
    tree.push(leafHash(event.leaf));
    const hashes = Buffer.alloc(32 * nodes.length);
    for (const [i, n] of nodes.entries()) hashes.set(n.hash, 32 * i);
    const params = [tip.size, Buffer.from(event.leaf), nodes.map((n) => n.level), nodes.map((n) => n.index), hashes];
    let written: { value: T; appendedAt: number };
    try {
      written = await write({ event, entryIndexText: appendAtText, entryIndexParams: params });
    } catch (e) {
      if (sqlState(e) === 'CF409') throw new LogMovedOn(tip.size);
      throw e;
    }
    // What the statement says the entry index was: a statement that did not evaluate it appended nothing, and
    // the edge kept for the next append must never include an entry that is not stored.
    if (Number(written.appendedAt) !== tip.size) throw new Error(`appendAt: the statement did not append at ${tip.size} (it says ${written.appendedAt})`);
    this.remember({ size: tip.size + 1, frontier: tree.peaks() });
    return written.value;
  }
}

/** PreparedAppend.entryIndexText: clearframe_append_at (migrations/0009), its parameters numbered from `first`. */
function appendAtText(first: number): string {
  const n = (i: number) => `$${first + i}`;
  return `(select clearframe_append_at(${n(0)}::int8, ${n(1)}::bytea, ${n(2)}::int2[], ${n(3)}::int8[], ${n(4)}::bytea))`;
}

/**
 * The batch in order, cut into waves that may run side by side: a run of changes that each name keys and
 * share none. A change that names none is a wave of its own.
 */
function sideBySide(batch: Pending[]): Pending[][] {
  const waves: Pending[][] = [];
  let wave: Pending[] = [];
  let keys = new Set<string>();
  const close = () => {
    if (wave.length > 0) waves.push(wave);
    wave = [];
    keys = new Set();
  };
  for (const item of batch) {
    if (item.touches.length === 0 || item.touches.some((k) => keys.has(k))) close();
    wave.push(item);
    for (const k of item.touches) keys.add(k);
    if (item.touches.length === 0) close();
  }
  close();
  return waves;
}

/** The SQLSTATE of a database error, from postgres.js or PGlite, directly or as drizzle's cause. */
function sqlState(e: unknown): string | undefined {
  for (let x = e, depth = 0; x && typeof x === 'object' && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
