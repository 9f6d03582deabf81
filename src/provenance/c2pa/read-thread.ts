import { Worker } from 'node:worker_threads';

/** What c2pa-rs' Reader gave, or its error (as thrown, cloned across threads) and where it failed. */
export type RawRead = { store: Record<string, unknown>; activeLabel: string | undefined } | { error: unknown; stage: 'open' | 'store' };

type Job = { resolve: (r: RawRead) => void; reject: (e: unknown) => void; shared: SharedArrayBuffer };

/**
 * c2pa-rs reads on a worker thread (read-worker.js): a read of a 5 MB video holds its thread for 20-40 ms,
 * and on this one nothing else would happen meanwhile: no other request, and none of the ledger queries
 * that a verification asks at the same time. The worker loads its own c2pa-rs instance when first used.
 * It keeps the process alive only while a read is pending.
 */
export class ReadThread {
  #worker: Promise<Worker> | undefined;
  #next = 0;
  #jobs = new Map<number, Job>();
  /** Buffers no pending read uses (one, unless reads overlap). */
  #free: SharedArrayBuffer[] = [];

  #buffer(length: number): SharedArrayBuffer {
    const i = this.#free.findIndex((b) => b.byteLength >= length);
    if (i >= 0) return this.#free.splice(i, 1)[0]!;
    this.#free.pop(); // too small: replaced by one with room to spare
    return new SharedArrayBuffer(Math.max(1 << 20, 2 ** Math.ceil(Math.log2(length))));
  }

  /**
   * Posted at once (within this call) when the thread is up, so whatever the caller does next, such as
   * hashing the file, runs beside the read.
   */
  read(mimeType: string, bytes: Uint8Array, settings: string): Promise<RawRead> {
    const post = (worker: Worker) =>
      new Promise<RawRead>((resolve, reject) => {
        const id = this.#next++;
        // Through shared memory that is kept and reused: posting the bytes costs ~3 ms per MB here, and
        // so does allocating a new SharedArrayBuffer each time; copying into a kept one ~0.1 ms per MB.
        // (Transferring the caller's buffer would take the bytes from the caller.)
        const shared = this.#buffer(bytes.byteLength);
        new Uint8Array(shared).set(bytes);
        this.#jobs.set(id, { resolve, reject, shared });
        if (this.#jobs.size === 1) worker.ref();
        worker.postMessage({ id, mimeType, shared, length: bytes.byteLength, settings });
      });
    return this.#ready ? post(this.#ready) : this.#started().then(post);
  }

  /** The worker, once it has said it is ready (and until it fails). */
  #ready: Worker | undefined;

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    if (worker) await (await worker.catch(() => null))?.terminate();
  }

  #started(): Promise<Worker> {
    this.#worker ??= new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(new URL('./read-worker.js', import.meta.url));
      const failed = (e: unknown) => {
        this.#worker = undefined; // the next read starts a new one
        this.#ready = undefined;
        for (const job of this.#jobs.values()) job.reject(e);
        this.#jobs.clear();
        reject(e);
      };
      worker.on('error', failed);
      worker.on('exit', (code) => failed(new Error(`the c2pa-rs read thread exited (${code})`)));
      worker.on('message', (m: { ready?: true; id?: number } & RawRead) => {
        if (m.ready) {
          worker.unref();
          this.#ready = worker;
          resolve(worker);
          return;
        }
        const job = this.#jobs.get(m.id!);
        this.#jobs.delete(m.id!);
        if (job) this.#free.push(job.shared);
        if (this.#jobs.size === 0) worker.unref();
        job?.resolve('error' in m ? { error: m.error, stage: m.stage } : { store: m.store, activeLabel: m.activeLabel });
      });
    });
    return this.#worker;
  }
}
