import { Worker } from 'node:worker_threads';

/** What c2pa-rs' Reader gave, or its error (as thrown, cloned across threads) and where it failed. */
export type RawRead = { store: Record<string, unknown>; activeLabel: string | undefined } | { error: unknown; stage: 'open' | 'store' };

/** What a sign on a pool thread gave: the signed file and its manifest store, or c2pa-rs' error. */
export type RawSign = { asset: unknown; manifest: unknown } | { error: unknown };

export interface PoolSignRequest {
  /** The manifest definition, as JSON. */
  definition: string;
  settings: string;
  mimeType: string;
  bytes: Uint8Array;
  ingredients: { json: string; mimeType: string; bytes: Uint8Array }[];
  alg: string;
  reserveSize: number;
}

/** What a thread posts about its job: c2pa-rs asks for a signature, has signed, or is done. */
type JobMessage = { id: number; kind: 'claim'; claim: Uint8Array } | ({ id: number; kind: 'done' } & Record<string, unknown>);
type Message = { ready: true } | JobMessage;

/** A job as the pool holds it: posted to a thread when one is free. */
type Job = {
  post(slot: Slot, id: number): void;
  message(m: JobMessage, slot: Slot): void;
  fail(e: unknown): void;
};

type Slot = { worker: Worker; ready: boolean; job: { id: number; job: Job } | undefined; shared: SharedArrayBuffer | undefined };

/** How many bytes a kept buffer has: room to spare, so files of about the same size reuse it. */
function roomFor(length: number): number {
  return Math.max(1 << 20, 2 ** Math.ceil(Math.log2(Math.max(length, 1))));
}

/**
 * c2pa-rs on a pool of worker threads (c2pa-worker.js), one job per thread at a time, the rest queued here
 * in order. A read of a 5 MB video or a sign of a JPEG holds its thread for tens of milliseconds, and on
 * the main thread nothing else would happen meanwhile; on N threads N of them run at once. Threads start
 * when first needed (each loads its own c2pa-rs) and keep the process alive only while they have a job.
 *
 * Memory stays bounded: each thread keeps one SharedArrayBuffer that its jobs' bytes are copied into and
 * that is reused (posting the bytes, or a fresh SharedArrayBuffer per job, costs far more than the copy);
 * queued jobs hold only the caller's own bytes.
 */
export class C2paPool {
  readonly size: number;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #next = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a c2pa-rs pool needs at least one thread (got ${size})`);
    this.size = size;
  }

  /**
   * Posted at once (within this call) when a thread is free, so whatever the caller does next, such as
   * hashing the file, runs beside the read.
   */
  read(mimeType: string, bytes: Uint8Array, settings: string, opts: { first?: boolean } = {}): Promise<RawRead> {
    return new Promise<RawRead>((resolve, reject) => {
      this.#submit(opts.first ?? false, {
        post: (slot, id) => {
          const shared = this.#bytesIn(slot, [bytes]);
          slot.worker.postMessage({ type: 'read', id, mimeType, shared, length: bytes.byteLength, settings });
        },
        message: (m) => {
          if (m.kind !== 'done') return;
          const r = m as unknown as RawRead & { id: number; kind: string };
          resolve('error' in r ? { error: r.error, stage: r.stage } : { store: r.store, activeLabel: r.activeLabel });
        },
        fail: reject,
      });
    });
  }

  /**
   * c2pa-rs builds and embeds the manifest on a pool thread; when it has the claim, `signClaim` is asked
   * here (on this thread) for the whole COSE_Sign1. Its failure fails the sign; the caller knows why.
   */
  sign(request: PoolSignRequest, signClaim: (claim: Uint8Array) => Promise<Uint8Array>): Promise<RawSign> {
    return new Promise<RawSign>((resolve) => {
      this.#submit(false, {
        post: (slot, id) => {
          const shared = this.#bytesIn(slot, [request.bytes, ...request.ingredients.map((i) => i.bytes)]);
          let offset = request.bytes.byteLength;
          const ingredients = request.ingredients.map((i) => {
            const at = { json: i.json, mimeType: i.mimeType, offset, length: i.bytes.byteLength };
            offset += i.bytes.byteLength;
            return at;
          });
          slot.worker.postMessage({
            type: 'sign',
            id,
            definition: request.definition,
            settings: request.settings,
            mimeType: request.mimeType,
            shared,
            length: request.bytes.byteLength,
            ingredients,
            alg: request.alg,
            reserveSize: request.reserveSize,
          });
        },
        message: (m, slot) => {
          if (m.kind === 'claim') {
            signClaim((m as { claim: Uint8Array }).claim).then(
              (cose) => slot.worker.postMessage({ type: 'signature', id: m.id, cose }),
              (e: unknown) => slot.worker.postMessage({ type: 'signature', id: m.id, failed: e instanceof Error ? e.message : String(e) }),
            );
          } else if (m.kind === 'done') {
            const d = m as Record<string, unknown>;
            resolve('error' in d ? { error: d.error } : { asset: d.asset, manifest: d.manifest });
          }
        },
        fail: (error) => resolve({ error }),
      });
    });
  }

  /** Stops every thread; jobs still queued or running fail. The next job starts threads again. */
  async close(): Promise<void> {
    const slots = this.#slots;
    this.#slots = [];
    const queued = this.#queue;
    this.#queue = [];
    const stopped = new Error('the c2pa-rs pool was closed');
    for (const job of queued) job.fail(stopped);
    for (const slot of slots) slot.job?.job.fail(stopped);
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => {})));
  }

  /** The slot's kept buffer with `parts` copied into it one after another (a bigger one if they do not fit). */
  #bytesIn(slot: Slot, parts: Uint8Array[]): SharedArrayBuffer {
    const length = parts.reduce((n, p) => n + p.byteLength, 0);
    if (!slot.shared || slot.shared.byteLength < length) slot.shared = new SharedArrayBuffer(roomFor(length));
    const view = new Uint8Array(slot.shared);
    let at = 0;
    for (const p of parts) {
      view.set(p, at);
      at += p.byteLength;
    }
    return slot.shared;
  }

  /** `first`: ahead of the queue (a sign's read-back, so a sign begun finishes before others begin). */
  #submit(first: boolean, job: Job): void {
    const idle = this.#slots.find((s) => s.ready && !s.job);
    if (idle) {
      this.#run(idle, job);
      return;
    }
    if (first) this.#queue.unshift(job);
    else this.#queue.push(job);
    // A thread still starting takes the queue's head when it is ready; start another while there is room.
    const starting = this.#slots.filter((s) => !s.ready).length;
    if (this.#slots.length < this.size && starting < this.#queue.length) this.#start();
  }

  #run(slot: Slot, job: Job): void {
    const id = this.#next++;
    slot.job = { id, job };
    slot.worker.ref();
    try {
      job.post(slot, id);
    } catch (e) {
      // The message could not be posted (nothing left this thread): the job fails, the slot is free.
      slot.job = undefined;
      slot.worker.unref();
      job.fail(e);
      this.#drain(slot);
    }
  }

  /** Gives a free slot the next queued job, or lets its thread idle without keeping the process alive. */
  #drain(slot: Slot): void {
    const next = this.#queue.shift();
    if (next) this.#run(slot, next);
    else slot.worker.unref();
  }

  #start(): void {
    const worker = new Worker(new URL('./c2pa-worker.js', import.meta.url));
    const slot: Slot = { worker, ready: false, job: undefined, shared: undefined };
    this.#slots.push(slot);
    const failed = (e: unknown) => {
      const i = this.#slots.indexOf(slot);
      if (i < 0) return; // closed, or already counted
      this.#slots.splice(i, 1);
      void worker.terminate().catch(() => {});
      const job = slot.job;
      slot.job = undefined;
      job?.job.fail(e);
      // A thread that never got ready (c2pa-rs would not load) fails what waits, rather than leave it
      // waiting; otherwise the next job starts another thread.
      if (!slot.ready && !this.#slots.some((s) => s.ready)) {
        const queued = this.#queue;
        this.#queue = [];
        for (const q of queued) q.fail(e);
      } else if (this.#queue.length > 0 && this.#slots.length < this.size) {
        this.#start();
      }
    };
    worker.on('error', failed);
    worker.on('exit', (code) => failed(new Error(`a c2pa-rs pool thread exited (${code})`)));
    worker.on('message', (m: Message) => {
      if ('ready' in m) {
        slot.ready = true;
        this.#drain(slot);
        return;
      }
      const current = slot.job;
      if (!current || current.id !== m.id) return;
      if (m.kind === 'done') {
        slot.job = undefined;
        current.job.message(m, slot);
        this.#drain(slot);
      } else {
        current.job.message(m, slot);
      }
    });
  }
}
