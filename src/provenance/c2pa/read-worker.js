// c2pa-rs reads on a thread of their own (read-thread.ts). Plain JavaScript: Node 20 runs worker
// threads without the main thread's TypeScript loader. It only reads; what the result means is decided
// on the main thread (toReadResult in c2pa-wasm.ts), so the two cannot drift apart.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import initC2paWasm, { WasmReader } from '@contentauth/c2pa-wasm';

const require = createRequire(import.meta.url);
await initC2paWasm({ module_or_path: await readFile(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });

// Errors go back as they are (a string or an Error clone across threads), and the main thread reads them
// with the same engineErrorText as its own reads; only what cannot be cloned is turned into text here.
function postError(id, stage, error) {
  try {
    parentPort.postMessage({ id, stage, error });
  } catch {
    parentPort.postMessage({ id, stage, error: String(error) });
  }
}

parentPort.on('message', async ({ id, mimeType, shared, length, settings }) => {
  let reader;
  try {
    reader = await WasmReader.fromBytes(mimeType, new Uint8Array(shared, 0, length), settings);
  } catch (err) {
    postError(id, 'open', err);
    return;
  }
  try {
    parentPort.postMessage({ id, store: reader.manifestStore(), activeLabel: reader.activeLabel() });
  } catch (err) {
    postError(id, 'store', err);
  } finally {
    reader.free();
  }
});
parentPort.postMessage({ ready: true });
