import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { makePng } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody, licenseBody } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

describe.skipIf(databaseUnavailable())('assets and versioned licenses', () => {
  let svc: TestService;
  let legal: string;
  const size = () => treeSize(svc.runtime.ctx.database.db);
  const events = async (from: number) => {
    const res = await svc.call('GET', `/v1/audit/events?from=${from}&limit=1000`, { token: legal });
    return ((await res.json()) as { events: { action: string; subjectId: string; content: Record<string, unknown>; actor: { sub: string; role: string } }[] }).events;
  };

  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal', 'lee@legal');
  });
  afterAll(async () => svc?.close());

  it('registers an asset by hash, audit-logged with the actor, and reads it back', async () => {
    const before = await size();
    const body = assetBody();
    const res = await svc.call('POST', '/v1/assets', { token: legal, json: body });
    expect(res.status).toBe(201);
    const asset = (await res.json()) as { id: string; sha256: string; auditIndex: number };
    expect(asset.sha256).toBe(body.sha256);
    expect(res.headers.get('location')).toBe(`/v1/assets/${asset.id}`);
    expect(asset.auditIndex).toBe(before);
    const [event] = await events(before);
    expect(event).toMatchObject({ action: 'asset.registered', subjectId: asset.id, actor: { sub: 'lee@legal', role: 'legal' } });
    expect(event!.content.sha256).toBe(body.sha256);

    const got = await svc.call('GET', `/v1/assets/${asset.id}`, { token: legal });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(asset);
  });

  it('hashes an uploaded file itself (multipart)', async () => {
    const bytes = makePng({ seed: 21 }); // a real PNG: a declared type must agree with the bytes (issue 21)
    const form = new FormData();
    form.set('file', new File([bytes], 'stairwell.png', { type: 'image/png' }));
    form.set('title', 'Stairwell upload');
    form.set('creator', 'R. Ortiz');
    form.set('production', 'dear-upstairs-neighbors');
    const res = await svc.call('POST', '/v1/assets', { token: legal, form });
    expect(res.status).toBe(201);
    const asset = (await res.json()) as { sha256: string; mediaType: string; byteSize: number };
    expect(asset.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(asset.mediaType).toBe('image/png');
    expect(asset.byteSize).toBe(bytes.byteLength);
  });

  it('answers 409 pointing at the existing asset for the same hash in one production, and writes nothing', async () => {
    const body = assetBody();
    const first = (await (await svc.call('POST', '/v1/assets', { token: legal, json: body })).json()) as { id: string };
    const before = await size();
    const again = await svc.call('POST', '/v1/assets', { token: legal, json: { ...body, title: 'other title' } });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await again.json()) as { existingAssetId: string; type: string };
    expect(problem.existingAssetId).toBe(first.id);
    expect(problem.type).toMatch(/conflict$/);
    expect(await size()).toBe(before);
    // the same content in another production is a different asset
    const other = await svc.call('POST', '/v1/assets', { token: legal, json: { ...body, production: 'another-film' } });
    expect(other.status).toBe(201);
  });

  it('keeps one asset when the same content is registered concurrently', async () => {
    const body = assetBody();
    const results = await Promise.all([1, 2, 3, 4].map(() => svc.call('POST', '/v1/assets', { token: legal, json: body })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
  });

  it("keeps every asset's versions a chain when versions of several assets are recorded at once", async () => {
    const [x, y] = (await Promise.all([assetBody(), assetBody()].map(async (json) => (await svc.call('POST', '/v1/assets', { token: legal, json })).json()))) as { id: string }[];
    // Versions of one asset share a key and run one after another; the two assets' run side by side.
    const results = await Promise.all(
      [x!, y!].flatMap((a) => Array.from({ length: 6 }, () => svc.call('POST', `/v1/assets/${a.id}/licenses`, { token: legal, json: licenseBody() }))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    for (const a of [x!, y!]) {
      const history = (await (await svc.call('GET', `/v1/assets/${a.id}/licenses`, { token: legal })).json()) as {
        items: { id: string; version: number; supersedes: string | null }[];
      };
      const oldestFirst = [...history.items].reverse();
      expect(oldestFirst.map((l) => l.version)).toEqual([1, 2, 3, 4, 5, 6]);
      for (const [i, l] of oldestFirst.entries()) expect(l.supersedes).toBe(i === 0 ? null : oldestFirst[i - 1]!.id);
    }
  });

  it('refuses bad asset input with 422 naming the fields, and writes nothing', async () => {
    const before = await size();
    const res = await svc.call('POST', '/v1/assets', { token: legal, json: { ...assetBody(), sha256: 'xyz', title: '' } });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { errors: { field: string }[]; status: number };
    expect(problem.status).toBe(422);
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['sha256', 'title']);
    const unknownField = await svc.call('POST', '/v1/assets', { token: legal, json: { ...assetBody(), owner: 'x' } });
    expect(unknownField.status).toBe(422);
    const malformed = await svc.call('POST', '/v1/assets', { token: legal, body: '{"sha256":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toContain('application/problem+json');
    const wrongType = await svc.call('POST', '/v1/assets', { token: legal, body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(415);
    expect(await size()).toBe(before);
  });

  it('answers 404 problem+json for an unknown asset', async () => {
    const res = await svc.call('GET', '/v1/assets/ast_nope', { token: legal });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { type: string }).type).toMatch(/not-found$/);
  });

  it('lists with filters and cursor pagination', async () => {
    const production = `film-${Date.now()}`;
    for (let i = 0; i < 5; i++) {
      await svc.call('POST', '/v1/assets', { token: legal, json: assetBody({ production, title: `Frame ${i}`, rightsHolder: i % 2 ? 'Odd Studio' : 'Even Studio' }) });
    }
    const page1 = (await (await svc.call('GET', `/v1/assets?production=${production}&limit=2`, { token: legal })).json()) as { items: { title: string }[]; nextCursor: string };
    expect(page1.items.map((a) => a.title)).toEqual(['Frame 0', 'Frame 1']);
    const page2 = (await (await svc.call('GET', `/v1/assets?production=${production}&limit=2&cursor=${page1.nextCursor}`, { token: legal })).json()) as {
      items: { title: string }[];
      nextCursor: string | null;
    };
    expect(page2.items.map((a) => a.title)).toEqual(['Frame 2', 'Frame 3']);
    const page3 = (await (await svc.call('GET', `/v1/assets?production=${production}&limit=2&cursor=${page2.nextCursor}`, { token: legal })).json()) as {
      items: unknown[];
      nextCursor: string | null;
    };
    expect(page3.items).toHaveLength(1);
    expect(page3.nextCursor).toBeNull();
    const odd = (await (await svc.call('GET', `/v1/assets?production=${production}&rightsHolder=Odd%20Studio`, { token: legal })).json()) as { items: unknown[] };
    expect(odd.items).toHaveLength(2);
    const text = (await (await svc.call('GET', `/v1/assets?production=${production}&q=frame%203`, { token: legal })).json()) as { items: { title: string }[] };
    expect(text.items.map((a) => a.title)).toEqual(['Frame 3']);
    const bad = await svc.call('GET', '/v1/assets?limit=0', { token: legal });
    expect(bad.status).toBe(422);
  });

  it('records license versions, supersedes without overwriting, revokes by a new record', async () => {
    const asset = (await (await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() })).json()) as { id: string };
    const before = await size();
    const v1res = await svc.call('POST', `/v1/assets/${asset.id}/licenses`, { token: legal, json: licenseBody() });
    expect(v1res.status).toBe(201);
    const v1 = (await v1res.json()) as { id: string; version: number; status: string; grants: { training: string } };
    expect(v1).toMatchObject({ version: 1, grants: { training: 'allowed' } });

    const v2res = await svc.call('POST', `/v1/assets/${asset.id}/licenses`, {
      token: legal,
      json: licenseBody({ grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' }, territories: ['WORLD'] }),
    });
    expect(v2res.status).toBe(201);
    const v2 = (await v2res.json()) as { id: string; version: number; supersedes: string };
    expect(v2).toMatchObject({ version: 2, supersedes: v1.id });

    const history = (await (await svc.call('GET', `/v1/assets/${asset.id}/licenses`, { token: legal })).json()) as {
      items: { id: string; status: string; supersededBy: string | null; grants: { training: string } }[];
    };
    expect(history.items.map((l) => l.id)).toEqual([v2.id, v1.id]);
    expect(history.items[1]).toMatchObject({ status: 'superseded', supersededBy: v2.id, grants: { training: 'allowed' } });
    expect(history.items[0]!.status).toBe('active');

    const revoke = await svc.call('POST', `/v1/licenses/${v2.id}/revoke`, { token: legal, json: { reason: 'Contract C-17 terminated' } });
    expect(revoke.status).toBe(200);
    const revoked = (await revoke.json()) as { status: string; revocation: { reason: string; revokedBy: string } };
    expect(revoked.status).toBe('revoked');
    expect(revoked.revocation).toMatchObject({ reason: 'Contract C-17 terminated', revokedBy: 'lee@legal' });

    const again = await svc.call('POST', `/v1/licenses/${v2.id}/revoke`, { token: legal, json: { reason: 'twice' } });
    expect(again.status).toBe(409);

    const log = await events(before);
    expect(log.map((e) => e.action)).toEqual(['license.granted', 'license.amended', 'license.revoked']);
    expect(log.map((e) => e.subjectId)).toEqual([v1.id, v2.id, v2.id]);
    expect(log[2]!.content).toMatchObject({ reason: 'Contract C-17 terminated', assetId: asset.id });
  });

  it('derives expired and pending from the term', async () => {
    const asset = (await (await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() })).json()) as { id: string };
    const res = await svc.call('POST', `/v1/assets/${asset.id}/licenses`, {
      token: legal,
      json: licenseBody({ term: { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' } }),
    });
    expect(((await res.json()) as { status: string }).status).toBe('expired');
    const other = (await (await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() })).json()) as { id: string };
    const later = await svc.call('POST', `/v1/assets/${other.id}/licenses`, {
      token: legal,
      json: licenseBody({ term: { start: '2099-01-01T00:00:00Z', end: '2100-01-01T00:00:00Z' } }),
    });
    expect(((await later.json()) as { status: string }).status).toBe('pending');
  });

  it('refuses bad license input with 422 and writes nothing', async () => {
    const asset = (await (await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() })).json()) as { id: string };
    const before = await size();
    const cases: [Record<string, unknown>, string][] = [
      [{ territories: ['USA'] }, 'territories.0'],
      [{ territories: [] }, 'territories'],
      [{ term: { start: '2027-01-01T00:00:00Z', end: '2026-01-01T00:00:00Z' } }, 'term.end'],
      [{ term: { start: 'yesterday', end: '2026-01-01T00:00:00Z' } }, 'term.start'],
      [{ grants: { training: 'maybe', derivatives: 'allowed', commercial: 'allowed' } }, 'grants.training'],
      [{ contractRef: { id: 'C-1', sha256: 'nothex' } }, 'contractRef.sha256'],
      [{ vendors: ['a', 'a'] }, 'vendors'],
    ];
    for (const [over, field] of cases) {
      const res = await svc.call('POST', `/v1/assets/${asset.id}/licenses`, { token: legal, json: licenseBody(over) });
      expect(res.status, field).toBe(422);
      const problem = (await res.json()) as { errors: { field: string }[] };
      expect(
        problem.errors.map((e) => e.field),
        field,
      ).toContain(field);
    }
    const unknownAsset = await svc.call('POST', '/v1/assets/ast_missing/licenses', { token: legal, json: licenseBody() });
    expect(unknownAsset.status).toBe(404);
    const unknownLicense = await svc.call('POST', '/v1/licenses/lic_missing/revoke', { token: legal, json: { reason: 'x' } });
    expect(unknownLicense.status).toBe(404);
    const noReason = await svc.call('POST', '/v1/licenses/lic_missing/revoke', { token: legal, json: {} });
    expect(noReason.status).toBe(422);
    expect(await size()).toBe(before);
  });
});
