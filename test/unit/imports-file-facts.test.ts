import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileFact, iptcDataMining, walkFolder } from '../../src/imports/file-facts.ts';
import { createC2paWasmEngine } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { makePng } from '../fixtures/media.ts';

const THIRD = path.resolve('test/fixtures/third-party');

describe('a folder as the import reads it', () => {
  let dir: string;
  const engine = createC2paWasmEngine();
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-file-facts-'));
    mkdirSync(path.join(dir, 'signed'), { recursive: true });
    mkdirSync(path.join(dir, '.cache'), { recursive: true });
    copyFileSync(path.join(THIRD, 'C.jpg'), path.join(dir, 'signed', 'C.jpg'));
    writeFileSync(path.join(dir, 'plain.png'), makePng({ seed: 5, noise: true }));
    const xmp =
      '<x:xmpmeta><rdf:Description xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"/></x:xmpmeta>';
    writeFileSync(path.join(dir, 'iptc.png'), Buffer.concat([Buffer.from(makePng({ seed: 6 })), Buffer.from(xmp)]));
    // A store marker cut in two by the megabyte the reader takes at a time.
    const big = Buffer.alloc((1 << 20) + 64, 0x20);
    big.write('ju', (1 << 20) - 2, 'latin1');
    big.write('md c2pa', 1 << 20, 'latin1');
    writeFileSync(path.join(dir, 'seam.tif'), big);
    writeFileSync(path.join(dir, 'notes.txt'), 'not art');
    writeFileSync(path.join(dir, '.cache', 'hidden.png'), 'hidden');
    writeFileSync(path.join(dir, 'layers.PSD'), '8BPS');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('walks every level in order, art only: no hidden folder, no text', async () => {
    const found: string[] = [];
    for await (const rel of walkFolder(dir)) found.push(rel);
    expect(found).toEqual(['iptc.png', 'layers.PSD', 'plain.png', 'seam.tif', 'signed/C.jpg']);
  });

  it('hashes each file, reads the C2PA manifest of the one that carries a store, and nothing of the others', async () => {
    const signed = await fileFact(dir, 'signed/C.jpg', () => engine);
    expect(signed.sha256).toBe(
      createHash('sha256')
        .update(readFileSync(path.join(dir, 'signed', 'C.jpg')))
        .digest('hex'),
    );
    expect(signed.mediaType).toBe('image/jpeg');
    expect(signed.embedded?.manifest.state).toMatch(/^(valid|invalid|damaged|unreadable)$/);
    const plain = await fileFact(dir, 'plain.png', () => {
      throw new Error('the engine is not asked for a file without a store');
    });
    expect(plain).toMatchObject({ mediaType: 'image/png', iptcDataMining: null });
    expect(plain.embedded).toBeUndefined();
    expect((await fileFact(dir, 'layers.PSD')).mediaType).toBe('image/vnd.adobe.photoshop');
  });

  it('takes IPTC plus:DataMining from the XMP, and sees a marker across the reader’s chunks', async () => {
    expect((await fileFact(dir, 'iptc.png')).iptcDataMining).toBe('http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING');
    expect(iptcDataMining('<plus:DataMining rdf:resource="http://ns.useplus.org/ldf/vocab/DMI-ALLOWED"/>')).toBe('http://ns.useplus.org/ldf/vocab/DMI-ALLOWED');
    let asked = 0;
    const seam = await fileFact(dir, 'seam.tif', () => {
      asked++;
      return engine;
    });
    expect(asked).toBe(1);
    expect(seam.byteSize).toBe((1 << 20) + 64);
    expect(seam.embedded?.manifest.state).not.toBe('valid');
  });
});
