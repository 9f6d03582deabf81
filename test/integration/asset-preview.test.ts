/**
 * The preview of uploaded art (media/preview.ts through POST /v1/assets): made from the bytes the service
 * received, fitted inside 320 pixels, without the original's metadata, stored with the registration, served
 * as an image that can never be a document; none for art registered by hash or not decodable.
 */
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg, makePng } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { startTestService, type TestService } from '../support/service.ts';

describe.skipIf(databaseUnavailable())('asset previews', () => {
  let svc: TestService;
  let legal: string;
  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal');
  });
  afterAll(async () => svc?.close());

  async function upload(bytes: Uint8Array, type: string, name: string): Promise<string> {
    const form = new FormData();
    form.set('file', new File([bytes], name, { type }));
    form.set('title', name);
    form.set('creator', 'R. Ortiz');
    form.set('production', 'dear-upstairs-neighbors');
    const res = await svc.call('POST', '/v1/assets', { token: legal, form });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  it('serves a JPEG fitted inside 320 px, upright, with none of the original metadata, as an image only', async () => {
    // A camera-like original: 1200×900 with EXIF (an orientation that turns it to 900×1200) and a comment.
    const original = await sharp({ create: { width: 1200, height: 900, channels: 3, background: { r: 200, g: 40, b: 90 } } })
      .withMetadata({ orientation: 6 })
      .withExifMerge({ IFD0: { Artist: 'R. Ortiz', Copyright: 'secret note' } })
      .jpeg()
      .toBuffer();
    expect(Buffer.from(original).includes(Buffer.from('secret note'))).toBe(true);
    const id = await upload(new Uint8Array(original), 'image/jpeg', 'camera.jpg');
    const res = await svc.call('GET', `/v1/assets/${id}/preview`, { token: legal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    const bytes = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 240, 320]); // turned upright, then fitted
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(bytes.includes(Buffer.from('secret note'))).toBe(false);
  });

  it('never enlarges a small image, and lays a PNG with transparency on white', async () => {
    const small = await upload(makeJpeg({ seed: 5, width: 80, height: 60 }), 'image/jpeg', 'small.jpg');
    const smallMeta = await sharp(Buffer.from(await (await svc.call('GET', `/v1/assets/${small}/preview`, { token: legal })).arrayBuffer())).metadata();
    expect([smallMeta.width, smallMeta.height]).toEqual([80, 60]);

    const clear = await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    const png = await upload(new Uint8Array(clear), 'image/png', 'clear.png');
    const { data, info } = await sharp(Buffer.from(await (await svc.call('GET', `/v1/assets/${png}/preview`, { token: legal })).arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    expect(Math.min(...data)).toBeGreaterThan(240);
    expect((await upload(makePng({ seed: 3 }), 'image/png', 'plain.png')).startsWith('ast_')).toBe(true);
  });

  it('answers 404 problems for art registered by its hash, for an unknown asset, and for bytes it cannot decode', async () => {
    const byHash = await svc.call('POST', '/v1/assets', {
      token: legal,
      json: { sha256: 'ab'.repeat(32), title: 'By hash', creator: 'R. Ortiz', production: 'dear-upstairs-neighbors', mediaType: 'image/png' },
    });
    expect(byHash.status).toBe(201);
    const hashed = ((await byHash.json()) as { id: string }).id;
    const none = await svc.call('GET', `/v1/assets/${hashed}/preview`, { token: legal });
    expect(none.status).toBe(404);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(((await none.json()) as { detail: string }).detail).toContain('registered by its hash');

    const unknown = await svc.call('GET', '/v1/assets/ast_0000000000000000000000000/preview', { token: legal });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toBe('no asset ast_0000000000000000000000000');

    // A JPEG cut short after its header: registered (its hash is what matters), with no preview.
    const cut = makeJpeg({ seed: 9, width: 200, height: 150 }).slice(0, 400);
    const broken = await upload(cut, 'image/jpeg', 'cut.jpg');
    expect((await svc.call('GET', `/v1/assets/${broken}/preview`, { token: legal })).status).toBe(404);
  });

  it('is for legal and admin only, and written once: the table refuses a change', async () => {
    const id = await upload(makeJpeg({ seed: 11 }), 'image/jpeg', 'roles.jpg');
    expect((await svc.call('GET', `/v1/assets/${id}/preview`, { token: await svc.token('vendor') })).status).toBe(403);
    expect((await svc.call('GET', `/v1/assets/${id}/preview`, { token: await svc.token('distributor') })).status).toBe(403);
    expect((await svc.call('GET', `/v1/assets/${id}/preview`)).status).toBe(401);
    expect((await svc.call('GET', `/v1/assets/${id}/preview`, { token: await svc.token('admin') })).status).toBe(200);
    await expect(svc.testDb.database.db.execute(sql`update asset_previews set width = 1 where asset_id = ${id}`)).rejects.toThrow();
  });
});
