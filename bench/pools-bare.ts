/**
 * One thread of the bare pools in the `pools` bench section: @contentauth/c2pa-wasm used directly, with
 * nothing of the service between the job and c2pa-rs. The file to read or sign is given once, when the
 * thread starts, and kept; a job is then just "read it" or "sign it". A sign builds its COSE_Sign1 here
 * with the service's own C2PA key and certificate chain (buildCoseSign1, as the service's engine does),
 * and reads the signed file back as the service does after every sign.
 */
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import initC2paWasm, { WasmBuilder, WasmReader } from '@contentauth/c2pa-wasm';
import { BytesBlob, computeReserveSize, installNodeShims } from '../src/provenance/c2pa/c2pa-wasm.ts';
import { buildCoseSign1 } from '../src/provenance/c2pa/cose-sign1.ts';

export type BareWorkerData = {
  mimeType: string;
  /** What a read job reads (a file the service signed). */
  signed: Uint8Array;
  /** What a sign job signs. */
  original: Uint8Array;
  privateKeyPem: string;
  certChainDer: Uint8Array[];
  settings: string;
  manifest: string;
};

const data = workerData as BareWorkerData;
installNodeShims();
const require = createRequire(import.meta.url);
await initC2paWasm({ module_or_path: await readFile(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });
const key = createPrivateKey(data.privateKeyPem);
const reserveSize = computeReserveSize(data.certChainDer);

async function read(bytes: Uint8Array): Promise<void> {
  const reader = await WasmReader.fromBytes(data.mimeType, bytes, data.settings);
  try {
    reader.manifestStore();
  } finally {
    reader.free();
  }
}

async function sign(): Promise<void> {
  const builder = WasmBuilder.fromJson(data.manifest, data.settings);
  let asset: Uint8Array;
  try {
    const out = (await builder.signAndGetManifestBytes(
      {
        alg: 'es256',
        reserveSize,
        sign: async (claim: Uint8Array) =>
          new Uint8Array(
            await buildCoseSign1({
              payload: claim,
              certChainDer: data.certChainDer,
              sign: async (tbs) => new Uint8Array(nodeSign('sha256', tbs, { key, dsaEncoding: 'ieee-p1363' })),
              targetSize: reserveSize,
            }),
          ),
      },
      [],
      data.mimeType,
      new BytesBlob(data.original, data.mimeType),
    )) as { asset: Uint8Array };
    asset = out.asset;
  } finally {
    builder.free();
  }
  await read(asset);
}

parentPort!.on('message', async (m: { id: number; op: 'read' | 'sign' }) => {
  try {
    await (m.op === 'read' ? read(data.signed) : sign());
    parentPort!.postMessage({ id: m.id });
  } catch (error) {
    parentPort!.postMessage({ id: m.id, error: String(error) });
  }
});
parentPort!.postMessage({ ready: true });
