/**
 * Signing on the engine's pool (pool.ts, c2pa-worker.js): c2pa-rs builds and embeds on a pool thread and
 * asks this thread for the COSE signature; what comes out, and every way it fails, is what a sign on this
 * thread gives.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type C2paWasmEngine, createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { C2paError } from '../../src/provenance/c2pa/errors.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import type { C2paSigner, SignInput } from '../../src/provenance/c2pa/types.ts';
import { makeJpeg, makeMp4, makePng } from '../fixtures/media.ts';

const created = {
  label: 'c2pa.actions',
  data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' }] },
};

describe('signs on the pool', () => {
  let here: C2paWasmEngine;
  let pool: C2paWasmEngine;
  let signer: C2paSigner;

  beforeAll(() => {
    const identity = createLocalSigningIdentity();
    signer = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
    here = createC2paWasmEngine({ trustAnchorsPem: [identity.signer.trustAnchorPem] });
    pool = createC2paWasmEngine({ trustAnchorsPem: [identity.signer.trustAnchorPem], workers: 2 });
  });
  afterAll(async () => {
    await pool?.close();
  });

  /** What a reader sees in a signed file, without what differs from one signature to the next. */
  const seen = async (bytes: Uint8Array, mimeType: string) => {
    const r = await here.read({ bytes, mimeType });
    if (r.kind !== 'manifest') return r.kind;
    return {
      trusted: r.trusted,
      intact: r.intact,
      failures: r.failureCodes,
      assertions: r.assertions.map((a) => a.label),
      ingredients: (r.activeManifest.ingredients as unknown[] | undefined)?.length ?? 0,
    };
  };

  it('signs JPEG, PNG and MP4 (with an ingredient) as this thread does', async () => {
    for (const [mimeType, bytes] of [
      ['image/jpeg', makeJpeg({ seed: 11 })],
      ['image/png', makePng({ seed: 11 })],
      ['video/mp4', makeMp4({ frames: 3, seed: 11 })],
    ] as const) {
      const input: SignInput = {
        bytes,
        mimeType,
        manifest: { title: mimeType, assertions: [created] },
        ingredients: [{ bytes: makeJpeg({ seed: 12 }), mimeType: 'image/jpeg', title: 'source', relationship: 'componentOf' }],
        signer,
      };
      const [a, b] = [await here.sign(input), await pool.sign(input)];
      expect(b.manifestLabel).toMatch(/^urn:c2pa:/);
      expect(await seen(b.bytes, mimeType), mimeType).toEqual(await seen(a.bytes, mimeType));
      expect(await seen(b.bytes, mimeType)).toMatchObject({ trusted: true, intact: true, ingredients: 1 });
    }
  });

  it('runs onSigned before it answers, and more signs than threads each get their own file', async () => {
    const order: string[] = [];
    const inputs = Array.from({ length: 5 }, (_, i) => ({
      bytes: makeJpeg({ seed: 20 + i }),
      mimeType: 'image/jpeg',
      manifest: { title: `n${i}`, assertions: [created] },
      signer,
    }));
    const results = await Promise.all(
      inputs.map((input, i) =>
        pool.sign({ ...input, onSigned: () => void order.push(`signed ${i}`) }).then((r) => {
          order.push(`answered ${i}`);
          return r;
        }),
      ),
    );
    for (const [i, r] of results.entries()) {
      expect(order.indexOf(`signed ${i}`)).toBeLessThan(order.indexOf(`answered ${i}`));
      const read = await here.read({ bytes: r.bytes, mimeType: 'image/jpeg' });
      expect(read.kind === 'manifest' && read.activeManifest.title).toBe(`n${i}`);
    }
  });

  it('waits for a signer that answers later (as Cloud KMS does), on this thread', async () => {
    const slow: C2paSigner = { ...signer, sign: async (data) => (await sleep(30), signer.sign(data)) };
    const r = await pool.sign({ bytes: makeJpeg({ seed: 30 }), mimeType: 'image/jpeg', manifest: { title: 'kms', assertions: [created] }, signer: slow });
    expect(await seen(r.bytes, 'image/jpeg')).toMatchObject({ trusted: true, intact: true });
  });

  it('fails with the same codes as this thread', async () => {
    const bytes = makeJpeg({ seed: 40 });
    const cases: [string, SignInput][] = [
      [
        'the signer fails',
        { bytes, mimeType: 'image/jpeg', manifest: { title: 'x', assertions: [created] }, signer: { ...signer, sign: async () => Promise.reject(new Error('KMS unavailable')) } },
      ],
      ['the signature box is too small', { bytes, mimeType: 'image/jpeg', manifest: { title: 'x', assertions: [created] }, signer: { ...signer, reserveSize: 100 } }],
      [
        'the manifest is not one c2pa-rs takes',
        { bytes, mimeType: 'image/jpeg', manifest: { title: 'x', assertions: [{ label: 'c2pa.actions', data: { actions: 'none' } }] }, signer },
      ],
      ['the file is cut short', { bytes: bytes.subarray(0, 400), mimeType: 'image/jpeg', manifest: { title: 'x', assertions: [created] }, signer }],
    ];
    for (const [name, input] of cases) {
      const errorOf = (p: Promise<unknown>) =>
        p.then(
          () => null,
          (e: unknown) => e,
        );
      const [a, b] = [await errorOf(here.sign(input)), await errorOf(pool.sign(input))];
      expect(a, name).toBeInstanceOf(C2paError);
      expect(b, name).toBeInstanceOf(C2paError);
      expect((b as C2paError).code, name).toBe((a as C2paError).code);
    }
  });

  it('the signer sees the claim and nothing else crosses: the thread never holds the key', async () => {
    const claims: number[] = [];
    const watching: C2paSigner = {
      ...signer,
      sign: (data) => {
        claims.push(data.byteLength);
        return signer.sign(data);
      },
    };
    await pool.sign({ bytes: makeJpeg({ seed: 50 }), mimeType: 'image/jpeg', manifest: { title: 'x', assertions: [created] }, signer: watching });
    expect(claims).toHaveLength(1);
  });
});

describe('pool threads and the process', () => {
  it('an idle pool does not keep the process alive', () => {
    // A process that signs and reads on the pool and never closes the engine must still exit by itself.
    const script = `
      import { createC2paWasmEngine, createLocalKeySigner } from './src/provenance/c2pa/c2pa-wasm.ts';
      import { createLocalSigningIdentity } from './src/provenance/c2pa/local-ca.ts';
      import { makeJpeg } from './test/fixtures/media.ts';
      const id = createLocalSigningIdentity();
      const signer = createLocalKeySigner({ privateKey: id.signer.privateKeyPem, certChainDer: id.signer.chainDer });
      const engine = createC2paWasmEngine({ trustAnchorsPem: [id.signer.trustAnchorPem], workers: 2 });
      const s = await engine.sign({ bytes: makeJpeg({ seed: 1 }), mimeType: 'image/jpeg', manifest: { title: 'x', assertions: [${JSON.stringify(created)}] }, signer });
      const r = await engine.read({ bytes: s.bytes, mimeType: 'image/jpeg' });
      console.log(r.kind, r.trusted);
    `;
    // From a file: pool threads inherit the process's flags, and --input-type would stop them loading.
    const dir = mkdtempSync(path.join(tmpdir(), 'clearframe-pool-'));
    const file = path.join(dir, 'idle.mjs');
    writeFileSync(file, script.replaceAll("'./", `'${pathToFileURL(process.cwd()).href}/`));
    const run = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: process.cwd(), encoding: 'utf8', timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
    expect(run.signal, run.stderr).toBeNull();
    expect(run.stdout.trim(), run.stderr).toBe('manifest true');
    expect(run.status).toBe(0);
  }, 70_000);
});
