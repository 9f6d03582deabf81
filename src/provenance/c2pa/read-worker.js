// c2pa-rs reads on a thread of their own (read-thread.ts). Plain JavaScript: Node 20 runs worker
// threads without the main thread's TypeScript loader. It only reads; what the result means is decided
// on the main thread (toReadResult in c2pa-wasm.ts), so the two cannot drift apart.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import initC2paWasm, { WasmReader } from '@contentauth/c2pa-wasm';

const require = createRequire(import.meta.url);
await initC2paWasm({ module_or_path: await readFile(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });

// The same text the main thread's engineErrorText makes of an engine error, so errors map the same way.
function errorText(err) {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

parentPort.on('message', async ({ id, mimeType, shared, length, settings }) => {
  let reader;
  try {
    reader = await WasmReader.fromBytes(mimeType, new Uint8Array(shared, 0, length), settings);
  } catch (err) {
    parentPort.postMessage({ id, error: errorText(err), stage: 'open' });
    return;
  }
  try {
    parentPort.postMessage({ id, store: reader.manifestStore(), activeLabel: reader.activeLabel() });
  } catch (err) {
    parentPort.postMessage({ id, error: errorText(err), stage: 'store' });
  } finally {
    reader.free();
  }
});
parentPort.postMessage({ ready: true });
