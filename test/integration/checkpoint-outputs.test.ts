/**
 * GET /v1/checkpoints/{id}/outputs: the outputs a checkpoint signed, newest first, paged; a vendor sees only
 * its own checkpoints' (another's is the 404 of an unknown id); a bad cursor or limit is a 422.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Page = { items: { id: string; checkpointId: string; mimeType: string; signedSha256: string; createdBy: string; withdrawal: unknown }[]; nextCursor: string | null };

describe.skipIf(databaseUnavailable())('the outputs of a checkpoint', () => {
  let svc: TestService;
  let legal: string;
  let vendor: string;
  let other: string;
  let generator: string;
  let distributor: string;

  beforeAll(async () => {
    svc = await startTestService();
    [legal, vendor, other, generator, distributor] = await Promise.all([
      svc.token('legal'),
      svc.token('vendor'),
      svc.token('vendor', 'ops@other.example', 'other-house'),
      svc.token('generator', 'render@upstairs.example'),
      svc.token('distributor'),
    ]);
  });
  afterAll(async () => svc?.close());

  async function sign(checkpointId: string, seed: number): Promise<string> {
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpointId);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status).toBe(200);
    return res.headers.get('clearframe-output-id')!;
  }
  const list = async (path: string, token: string) => {
    const res = await svc.call('GET', path, { token });
    expect(res.status, path).toBe(200);
    return (await res.json()) as Page;
  };

  it('lists the outputs it signed, newest first, a page at a time, and only those', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const elsewhere = await activeCheckpoint(svc, legal, vendor, 1);
    const mine = [await sign(checkpoint.id, 31), await sign(checkpoint.id, 32), await sign(checkpoint.id, 33)];
    await sign(elsewhere.checkpoint.id, 34);

    const first = await list(`/v1/checkpoints/${checkpoint.id}/outputs?limit=2`, legal);
    expect(first.items.map((o) => o.id)).toEqual([mine[2], mine[1]]);
    expect(first.items[0]).toMatchObject({ checkpointId: checkpoint.id, mimeType: 'image/jpeg', createdBy: 'render@upstairs.example', withdrawal: null });
    expect(first.items[0]!.signedSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.nextCursor).not.toBeNull();
    const second = await list(`/v1/checkpoints/${checkpoint.id}/outputs?limit=2&cursor=${first.nextCursor}`, legal);
    expect(second.items.map((o) => o.id)).toEqual([mine[0]]);
    expect(second.nextCursor).toBeNull();

    // Every reader of the checkpoint reads the same list: its vendor, the generator, legal.
    for (const token of [vendor, generator]) expect((await list(`/v1/checkpoints/${checkpoint.id}/outputs`, token)).items.map((o) => o.id)).toEqual([...mine].reverse());
    // A checkpoint that signed nothing has an empty list.
    const idle = await activeCheckpoint(svc, legal, vendor, 1);
    expect(await list(`/v1/checkpoints/${idle.checkpoint.id}/outputs`, legal)).toEqual({ items: [], nextCursor: null });
  });

  it("answers another vendor's checkpoint as an unknown one, refuses a distributor, and refuses a bad cursor or limit", async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    await sign(checkpoint.id, 35);
    const theirs = await svc.call('GET', `/v1/checkpoints/${checkpoint.id}/outputs`, { token: other });
    const unknown = await svc.call('GET', '/v1/checkpoints/ckp_AAAAAAAAAAAAAAAA/outputs', { token: other });
    expect(theirs.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(((await theirs.json()) as { title: string }).title).toBe(((await unknown.json()) as { title: string }).title);
    expect((await svc.call('GET', `/v1/checkpoints/${checkpoint.id}/outputs`, { token: distributor })).status).toBe(403);
    expect((await svc.call('GET', `/v1/checkpoints/${checkpoint.id}/outputs`)).status).toBe(401);
    for (const q of ['cursor=abc', 'limit=0', 'limit=201']) {
      const res = await svc.call('GET', `/v1/checkpoints/${checkpoint.id}/outputs?${q}`, { token: legal });
      expect(res.status, q).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});
