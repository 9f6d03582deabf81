import { Worker } from 'node:worker_threads';

/**
 * A second thread for the SHA-256 work of full-log verification (hash-worker.js). Hashing is what a
 * verification spends most of its time on once the bytes are here, and the tree splits into independent
 * pieces, so two cores do it in about half the time. Results go straight into shared memory.
 */
export class HashHelper {
  #next = 0;
  #waiting = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  #outstanding = 0;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (id: number) => {
      this.#outstanding -= 1;
      this.#waiting.get(id)?.resolve();
      this.#waiting.delete(id);
    });
    worker.on('error', (e) => {
      for (const job of this.#waiting.values()) job.reject(e);
      this.#waiting.clear();
    });
    worker.unref();
  }

  /** A helper thread, or null where one cannot be started (then everything is hashed on this thread). */
  static async start(): Promise<HashHelper | null> {
    try {
      const worker = new Worker(new URL('./hash-worker.js', import.meta.url));
      await new Promise<void>((resolve, reject) => {
        worker.once('online', resolve);
        worker.once('error', reject);
      });
      return new HashHelper(worker);
    } catch {
      return null;
    }
  }

  /** Jobs sent and not yet done: the caller keeps this small and hashes the rest itself. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** SHA-256(0x00 || leaf) of leaf i (`bytes[places[2i] .. places[2i+1])`) into `out` at byte `at + 32i`. */
  leaves(bytes: Uint8Array, places: Int32Array, out: SharedArrayBuffer, at: number): Promise<void> {
    return this.#send({ kind: 'leaves', bytes, places, out, at }, [bytes.buffer as ArrayBuffer, places.buffer as ArrayBuffer]);
  }

  /** Parents [from, to) of the level at byte `level` (length `levelLength`) of `shared`, into `parents`. */
  parents(shared: SharedArrayBuffer, level: number, levelLength: number, parents: number, parentsLength: number, from: number, to: number): Promise<void> {
    return this.#send({ kind: 'parents', shared, level, levelLength, parents, parentsLength, from, to }, []);
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }

  #send(job: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<void> {
    const id = this.#next++;
    this.#outstanding += 1;
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...job, id }, transfer);
    });
  }
}
