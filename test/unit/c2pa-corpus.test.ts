import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyOffline } from '../../src/outputs/verify-offline.ts';
import { createC2paWasmEngine } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { CORPUS } from '../fixtures/third-party/corpus.ts';

const fixture = (file: string) => new Uint8Array(readFileSync(new URL(`../fixtures/third-party/${file}`, import.meta.url)));

type Offline = { verdict: string; c2pa?: { failureCodes?: string[]; codes?: string[]; remoteUrl?: string | null; identity?: unknown } };

// c2pa-rs's own fixtures with the outcomes its tests expect (test/fixtures/third-party/README.md), read by
// `clearframe verify` without a server; the service gives the same verdicts (c2pa-corpus.test.ts in integration).
describe('the conformance corpus, offline', () => {
  const engine = createC2paWasmEngine({ workers: 2 });
  afterAll(() => engine.close());

  it.each(CORPUS)('$file: $verdict ($origin)', async ({ file, verdict, codes, hostile }) => {
    const started = performance.now();
    const result = (await verifyOffline(engine, fixture(file), {})) as Offline;
    const took = performance.now() - started;
    expect({ file, verdict: result.verdict, codes: result.c2pa?.failureCodes ?? result.c2pa?.codes ?? [] }).toEqual({ file, verdict, codes });
    // A guard against hangs, not a timing: every hostile file is answered long before a second.
    if (hostile) expect(took).toBeLessThan(1000);
  });

  it('names the URL of a remote manifest and never fetches it', async () => {
    // Off unless an engine is made to fetch (the service and the CLI never are).
    expect(JSON.parse(engine.settingsJson()).verify.remote_manifest_fetch).toBe(false);
    const result = (await verifyOffline(engine, fixture('cloud.jpg'), {})) as Offline;
    expect(result.c2pa?.remoteUrl).toBe('https://cai-manifests.adobe.com/manifests/adobe-urn-uuid-5f37e182-3687-462e-a7fb-573462780391');
    const png = (await verifyOffline(engine, fixture('libpng-test_with_url.png'), {})) as Offline;
    expect(png.c2pa?.remoteUrl).toBe('http://localhost:5000/libpng-test.c2pa');
  });

  it('reports the CAWG identity status beside an untrusted verdict', async () => {
    const result = (await verifyOffline(engine, fixture('C_with_CAWG_data.jpg'), {})) as Offline;
    expect(result.c2pa?.identity).toEqual({
      trusted: false,
      intact: true,
      success: ['cawg.x509.signature.validated', 'cawg.identity.well-formed'],
      failure: ['cawg.x509.credential.untrusted'],
    });
  });
});
