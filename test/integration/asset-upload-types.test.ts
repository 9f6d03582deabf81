import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { makeJpeg, makePng } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { startTestService, type TestService } from '../support/service.ts';

// An uploaded file's declared type must agree with its bytes (issue 21): registered under another type,
// its embedded training restriction would go unread.
describe.skipIf(databaseUnavailable())('asset upload: declared and actual types', () => {
  let svc: TestService;
  let legal: string;
  let seed = 100;
  const size = () => treeSize(svc.runtime.ctx.database.db);
  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal');
  });
  afterAll(async () => svc?.close());

  function upload(bytes: Uint8Array, type: string, mediaType?: string) {
    const form = new FormData();
    form.set('file', new File([bytes], 'art', type ? { type } : {}));
    form.set('title', `Upload ${seed++}`);
    form.set('creator', 'R. Ortiz');
    form.set('production', 'dear-upstairs-neighbors');
    if (mediaType) form.set('mediaType', mediaType);
    return svc.call('POST', '/v1/assets', { token: legal, form });
  }

  it.each([
    ['a PNG declared image/jpeg', () => makePng({ seed: 1 }), 'image/jpeg', /declared image\/jpeg but its bytes are image\/png$/],
    ['text declared image/png', () => new TextEncoder().encode('pretend this is a PNG'), 'image/png', /declared image\/png but its bytes are not image\/png$/],
    ['a JPEG declared image/tiff', () => makeJpeg({ seed: 2 }), 'image/tiff', /declared image\/tiff but its bytes are image\/jpeg$/],
    ['a JPEG declared as a Photoshop file', () => makeJpeg({ seed: 3 }), 'image/vnd.adobe.photoshop', /its bytes are image\/jpeg$/],
  ])('refuses %s with 422, writing nothing', async (_name, bytes, type, detail) => {
    const before = await size();
    const res = await upload(bytes(), type);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { detail: string; errors: { field: string }[] };
    expect(body.detail).toMatch(detail);
    expect(body.errors).toEqual([{ field: 'file', message: expect.stringMatching(/does not match/) }]);
    expect(await size()).toBe(before);
  });

  it('refuses a mediaType field that the bytes contradict, as the file part type', async () => {
    expect((await upload(makePng({ seed: 4 }), 'image/png', 'image/jpeg')).status).toBe(422);
  });

  it('registers what it cannot tell apart as declared, and an undeclared file as what its bytes are', async () => {
    const psd = new Uint8Array([0x38, 0x42, 0x50, 0x53, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3]);
    const declared = await upload(psd, 'image/vnd.adobe.photoshop');
    expect(declared.status).toBe(201);
    expect(((await declared.json()) as { mediaType: string }).mediaType).toBe('image/vnd.adobe.photoshop');
    const undeclared = await upload(makeJpeg({ seed: 5 }), '');
    expect(undeclared.status).toBe(201);
    expect(((await undeclared.json()) as { mediaType: string }).mediaType).toBe('image/jpeg');
  });
});
