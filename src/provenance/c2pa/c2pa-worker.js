// One thread of the c2pa-rs pool (pool.ts). Plain JavaScript: Node 20 runs worker threads without the main
// thread's TypeScript loader. It reads and it signs, one job at a time; what a result means is decided on
// the main thread (c2pa-wasm.ts), so a job here and the same job on the main thread cannot drift apart.
// A sign never sees the signing key: c2pa-rs builds and embeds the manifest here, and the COSE signature
// over its claim is asked of the main thread, where the Signer (a local key or Cloud KMS) and the
// time-stamp authority are.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import initC2paWasm, { WasmBuilder, WasmReader } from '@contentauth/c2pa-wasm';

const require = createRequire(import.meta.url);
await initC2paWasm({ module_or_path: await readFile(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });

// The same shims as c2pa-wasm.ts (BytesBlob, NodeFileReaderSync): c2pa-rs reads a sign's source Blob
// through FileReaderSync, which Node lacks; without it c2pa-rs reads an empty asset.
class BytesBlob extends Blob {
  constructor(content, type = '') {
    super([], { type });
    this.content = content;
    Object.defineProperty(this, 'size', { value: content.length });
  }

  slice(start, end, contentType) {
    const len = this.content.length;
    const clamp = (v, dflt) => (v === undefined ? dflt : v < 0 ? Math.max(len + v, 0) : Math.min(v, len));
    const s = clamp(start, 0);
    const e = Math.max(clamp(end, len), s);
    return new BytesBlob(this.content.subarray(s, e), contentType ?? '');
  }

  arrayBuffer() {
    return Promise.resolve(this.content.slice().buffer);
  }

  text() {
    return Promise.resolve(new TextDecoder().decode(this.content));
  }

  stream() {
    return new Blob([this.content]).stream();
  }
}

globalThis.FileReaderSync ??= class {
  readAsArrayBuffer(blob) {
    if (!(blob instanceof BytesBlob)) throw new TypeError('FileReaderSync shim: only BytesBlob can be read synchronously in Node');
    const c = blob.content;
    // Bytes in the pool's shared memory are copied out: c2pa-rs is given an ArrayBuffer of its own.
    if (c.byteOffset === 0 && c.byteLength === c.buffer.byteLength && c.buffer instanceof ArrayBuffer) return c.buffer;
    return c.slice().buffer;
  }
};

// Errors go back as they are (a string or an Error clone across threads), and the main thread reads them
// with the same engineErrorText as its own; only what cannot be cloned is turned into text here.
function done(id, result) {
  try {
    parentPort.postMessage({ id, kind: 'done', ...result });
  } catch {
    parentPort.postMessage({ id, kind: 'done', ...result, error: String(result.error) });
  }
}

async function read(mimeType, bytes, settings) {
  let reader;
  try {
    reader = await WasmReader.fromBytes(mimeType, bytes, settings);
  } catch (error) {
    return { error, stage: 'open' };
  }
  try {
    return { store: reader.manifestStore(), activeLabel: reader.activeLabel() };
  } catch (error) {
    return { error, stage: 'store' };
  } finally {
    reader.free();
  }
}

/** The signature c2pa-rs waits for, by job id (one per job). */
const signatures = new Map();

async function sign(m) {
  const { id, shared, mimeType } = m;
  let builder;
  try {
    builder = WasmBuilder.fromJson(m.definition, m.settings);
  } catch (error) {
    done(id, { error, stage: 'sign' });
    return;
  }
  let out;
  try {
    for (const ing of m.ingredients) {
      await builder.addIngredientFromBlob(ing.json, ing.mimeType, new BytesBlob(new Uint8Array(shared, ing.offset, ing.length), ing.mimeType));
    }
    const signer = {
      alg: m.alg,
      reserveSize: m.reserveSize,
      sign: (claim) =>
        new Promise((resolve, reject) => {
          signatures.set(id, { resolve, reject });
          parentPort.postMessage({ id, kind: 'claim', claim });
        }),
    };
    out = await builder.signAndGetManifestBytes(signer, [], mimeType, new BytesBlob(new Uint8Array(shared, 0, m.length), mimeType));
  } catch (error) {
    done(id, { error, stage: 'sign' });
    return;
  } finally {
    signatures.delete(id);
    builder.free();
  }
  const { asset, manifest } = out ?? {};
  if (!(asset instanceof Uint8Array) || !(manifest instanceof Uint8Array)) {
    done(id, { error: 'c2pa-wasm returned an unexpected sign result', stage: 'result' });
    return;
  }
  // The signed file goes to the main thread as it is (transferred, not copied there). Its read-back is a
  // read of its own, asked once the main thread has what it returns.
  const own = (a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
  const transfer = [asset, manifest].filter(own).map((a) => a.buffer);
  parentPort.postMessage({ id, kind: 'done', asset, manifest }, transfer);
}

parentPort.on('message', (m) => {
  if (m.type === 'read') {
    read(m.mimeType, new Uint8Array(m.shared, 0, m.length), m.settings).then((r) => done(m.id, r));
  } else if (m.type === 'sign') {
    void sign(m);
  } else if (m.type === 'signature') {
    const waiting = signatures.get(m.id);
    signatures.delete(m.id);
    if (m.cose) waiting?.resolve(m.cose);
    else waiting?.reject(new Error(m.failed ?? 'the signer failed'));
  }
});
parentPort.postMessage({ ready: true });
