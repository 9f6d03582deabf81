/**
 * GET /v1/licenses (current versions, filtered, paged, CSV) and the asset list's license filters; an
 * unknown query parameter is a 422 naming it on both, and so is a bad value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/http/csv.ts';
import { databaseUnavailable } from '../support/db.ts';
import { licenseBody } from '../support/fixtures.ts';
import { licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type LicenseItem = {
  id: string;
  assetId: string;
  assetTitle: string;
  version: number;
  status: string;
  licensee: string;
  vendors: string[];
  grants: { training: string; derivatives: string; commercial: string };
  term: { start: string; end: string };
  revocation: unknown;
};
type Page<T> = { items: T[]; nextCursor: string | null };
type Problem = { status: number; errors: { field: string; message: string }[] };

const TRICKY = 'Stairwell, "night"\nkey frame 3';
const ENDED = { start: '2025-01-01T00:00:00Z', end: '2026-03-01T00:00:00Z' };

describe.skipIf(databaseUnavailable())('the license list and the asset list’s license filters', () => {
  let svc: TestService;
  let legal: string;
  let admin: string;
  const ids: Record<string, { assetId: string; licenseId: string | null }> = {};

  beforeAll(async () => {
    svc = await startTestService();
    [legal, admin] = await Promise.all([svc.token('legal'), svc.token('admin')]);
    const production = 'lists-prod';
    const make = async (name: string, license: Record<string, unknown> | null, title = `art ${name}`) => {
      ids[name] = await licensedAsset(svc, legal, license, { production, title });
    };
    await make('plain', { licensee: 'Upstairs Films' }, TRICKY);
    await make('world', { licensee: 'Upstairs Films', territories: ['WORLD'], grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } });
    await make('other', { licensee: 'Other, "Ltd"', vendors: ['other-house'], grants: { training: 'requiresApproval', derivatives: 'notAllowed', commercial: 'notAllowed' } });
    await make('ended', { term: ENDED });
    await make('revoked', {});
    await make('none', null);
    await make('amended', {});
    // The amendment supersedes the first version: only the second is current.
    const amend = await svc.call('POST', `/v1/assets/${ids.amended!.assetId}/licenses`, {
      token: legal,
      json: licenseBody({ licensee: 'Upstairs Films', grants: { training: 'notAllowed', derivatives: 'notAllowed', commercial: 'notAllowed' } }),
    });
    expect(amend.status).toBe(201);
    ids.amendedV2 = { assetId: ids.amended!.assetId, licenseId: ((await amend.json()) as { id: string }).id };
    const revoke = await svc.call('POST', `/v1/licenses/${ids.revoked!.licenseId}/revoke`, { token: legal, json: { reason: 'Contract C-17 terminated' } });
    expect(revoke.status).toBe(200);
  });
  afterAll(async () => svc?.close());

  const get = async <T>(path: string, token = legal) => {
    const res = await svc.call('GET', path, { token });
    expect(res.status, `${path}: ${res.status}`).toBe(200);
    return (await res.json()) as Page<T>;
  };
  const licenseIds = async (query: string) => (await get<LicenseItem>(`/v1/licenses?limit=200&${query}`)).items.map((l) => l.id).sort();
  const lic = (...names: string[]) => names.map((n) => ids[n]!.licenseId!).sort();

  it('lists the current version of every license once, oldest recorded first', async () => {
    const all = await get<LicenseItem>('/v1/licenses?limit=200');
    expect(all.items.map((l) => l.id).sort()).toEqual(lic('plain', 'world', 'other', 'ended', 'revoked', 'amendedV2'));
    expect(all.items.map((l) => l.id)).not.toContain(ids.amended!.licenseId);
    expect(all.nextCursor).toBeNull();
    const plain = all.items.find((l) => l.id === ids.plain!.licenseId)!;
    expect(plain).toMatchObject({ assetId: ids.plain!.assetId, assetTitle: TRICKY, version: 1, status: 'active', revocation: null });
    expect(all.items.find((l) => l.id === ids.amendedV2!.licenseId)).toMatchObject({ version: 2, supersededBy: null });
    expect(all.items.find((l) => l.id === ids.revoked!.licenseId)!.status).toBe('revoked');
    expect(all.items.find((l) => l.id === ids.ended!.licenseId)!.status).toBe('expired');
  });

  it('filters by asset, licensee, vendor, grants, state and term end; filters combine', async () => {
    expect(await licenseIds(`assetId=${ids.amended!.assetId}`)).toEqual(lic('amendedV2'));
    expect(await licenseIds(`licensee=${encodeURIComponent('Other, "Ltd"')}`)).toEqual(lic('other'));
    expect(await licenseIds('vendor=other-house')).toEqual(lic('other'));
    expect(await licenseIds('vendor=acme-vfx')).toEqual(lic('plain', 'world', 'ended', 'revoked', 'amendedV2'));
    expect(await licenseIds('vendor=nobody')).toEqual([]);
    expect(await licenseIds('training=allowed')).toEqual(lic('plain', 'ended', 'revoked'));
    expect(await licenseIds('training=notAllowed')).toEqual(lic('world', 'amendedV2'));
    expect(await licenseIds('training=requiresApproval')).toEqual(lic('other'));
    expect(await licenseIds('derivatives=allowed&commercial=allowed')).toEqual(lic('world'));
    expect(await licenseIds('state=revoked')).toEqual(lic('revoked'));
    expect(await licenseIds('state=ended')).toEqual(lic('ended'));
    expect(await licenseIds('state=standing')).toEqual(lic('plain', 'world', 'other', 'amendedV2'));
    expect(await licenseIds('endingBefore=2026-06-30')).toEqual(lic('ended'));
    expect(await licenseIds('endingBefore=2026-03-01T00:00:00Z')).toEqual([]);
    expect(await licenseIds('endingBefore=2026-03-01T00:00:01Z')).toEqual(lic('ended'));
    expect(await licenseIds('endingBefore=2030-01-01&state=standing&training=notAllowed')).toEqual(lic('world', 'amendedV2'));
  });

  it('pages through every row once: no duplicate, no gap', async () => {
    const all = (await get<LicenseItem>('/v1/licenses?limit=200')).items.map((l) => l.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page<LicenseItem> = await get<LicenseItem>(`/v1/licenses?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((l) => l.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('answers the same rows as RFC 4180 CSV for Accept: text/csv', async () => {
    const json = await get<LicenseItem>('/v1/licenses?limit=200');
    const res = await svc.call('GET', '/v1/licenses?limit=200', { token: admin, headers: { accept: 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([
      'id',
      'assetId',
      'assetTitle',
      'version',
      'status',
      'licensor',
      'licensee',
      'vendors',
      'training',
      'derivatives',
      'commercial',
      'territories',
      'media',
      'baseModelFamilies',
      'termStart',
      'termEnd',
      'exclusivity',
      'revokedAt',
      'auditIndex',
    ]);
    const col = (name: string) => header!.indexOf(name);
    expect(rows.map((r) => r[col('id')])).toEqual(json.items.map((l) => l.id));
    for (const [i, l] of json.items.entries()) {
      const row = rows[i]!;
      expect(row).toHaveLength(header!.length);
      expect(row[col('assetTitle')]).toBe(l.assetTitle);
      expect(row[col('licensee')]).toBe(l.licensee);
      expect(row[col('vendors')]).toBe(l.vendors.join(';'));
      expect(row[col('training')]).toBe(l.grants.training);
      expect(row[col('termEnd')]).toBe(l.term.end);
    }
    expect(rows.find((r) => r[col('id')] === ids.plain!.licenseId)![col('assetTitle')]).toBe(TRICKY);
    expect(rows.find((r) => r[col('id')] === ids.other!.licenseId)![col('licensee')]).toBe('Other, "Ltd"');
    expect(rows.find((r) => r[col('id')] === ids.revoked!.licenseId)![col('revokedAt')]).toMatch(/^\d{4}-/);
    // A CSV page names the next one in a header.
    const paged = await svc.call('GET', '/v1/licenses?limit=2', { token: legal, headers: { accept: 'text/csv' } });
    expect(parseCsv(await paged.text())).toHaveLength(3);
    const next = paged.headers.get('clearframe-next-cursor');
    expect(next).toMatch(/^\d+$/);
    const rest = await svc.call('GET', `/v1/licenses?limit=200&cursor=${next}`, { token: legal, headers: { accept: 'text/csv' } });
    expect(parseCsv(await rest.text())).toHaveLength(1 + json.items.length - 2);
    expect(rest.headers.get('clearframe-next-cursor')).toBeNull();
  });

  it('refuses an unknown filter and bad values with a 422 naming the field, and other roles', async () => {
    for (const [query, field] of [
      ['bogus=1', 'bogus'],
      ['assetID=ast_x', 'assetID'],
      ['training=maybe', 'training'],
      ['state=active', 'state'],
      ['endingBefore=tomorrow', 'endingBefore'],
      ['endingBefore=2026-02-30', 'endingBefore'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['cursor=abc', 'cursor'],
    ] as const) {
      const res = await svc.call('GET', `/v1/licenses?${query}`, { token: legal });
      expect(res.status, query).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(
        ((await res.json()) as Problem).errors.map((e) => e.field),
        query,
      ).toContain(field);
    }
    for (const role of ['vendor', 'generator', 'distributor'] as const) {
      expect((await svc.call('GET', '/v1/licenses', { token: await svc.token(role) })).status, role).toBe(403);
    }
    expect((await svc.call('GET', '/v1/licenses')).status).toBe(401);
  });

  const assetIds = async (query: string) => (await get<{ id: string }>(`/v1/assets?production=lists-prod&limit=200&${query}`)).items.map((a) => a.id).sort();
  const ast = (...names: string[]) => names.map((n) => ids[n]!.assetId).sort();

  it('filters assets by the grants and territory of their current license and by license state', async () => {
    expect(await assetIds('')).toEqual(ast('plain', 'world', 'other', 'ended', 'revoked', 'none', 'amended'));
    expect(await assetIds('training=allowed')).toEqual(ast('plain'));
    expect(await assetIds('training=notAllowed')).toEqual(ast('world', 'amended'));
    expect(await assetIds('training=requiresApproval&derivatives=notAllowed')).toEqual(ast('other'));
    expect(await assetIds('commercial=allowed')).toEqual(ast('world'));
    expect(await assetIds('territory=FR')).toEqual(ast('world'));
    expect(await assetIds('territory=CA')).toEqual(ast('plain', 'world', 'other', 'amended'));
    expect(await assetIds('territory=WORLD')).toEqual(ast('world'));
    expect(await assetIds('license=licensed')).toEqual(ast('plain', 'world', 'other', 'amended'));
    expect(await assetIds('license=unlicensed')).toEqual(ast('ended', 'none'));
    expect(await assetIds('license=revoked')).toEqual(ast('revoked'));
    expect(await assetIds('license=revoked&training=allowed')).toEqual(ast('revoked'));
    expect(await assetIds('license=revoked&training=notAllowed')).toEqual([]);
    expect(await assetIds('license=licensed&territory=US&training=notAllowed')).toEqual(ast('world', 'amended'));
    // Paging keeps the filter: two at a time, the same four.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<{ id: string }> = await get<{ id: string }>(`/v1/assets?production=lists-prod&license=licensed&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((a) => a.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(ast('plain', 'world', 'other', 'amended'));
  });

  it('refuses an unknown asset filter and bad values with a 422 naming the field', async () => {
    for (const [query, field] of [
      ['grant=training', 'grant'],
      ['production=lists-prod&vendor=acme-vfx', 'vendor'],
      ['training=yes', 'training'],
      ['territory=us', 'territory'],
      ['territory=USA', 'territory'],
      ['territory=XX', 'territory'],
      ['license=expired', 'license'],
      ['license=unlicensed&training=allowed', 'license'],
    ] as const) {
      const res = await svc.call('GET', `/v1/assets?${query}`, { token: legal });
      expect(res.status, query).toBe(422);
      expect(
        ((await res.json()) as Problem).errors.map((e) => e.field),
        query,
      ).toContain(field);
    }
  });
});
