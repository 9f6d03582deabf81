import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposedUse, searchAvails } from '../../src/avails/service.ts';
import { parseCsv } from '../../src/http/csv.ts';
import { createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import { trainingMiningAssertion } from '../../src/provenance/c2pa/training-mining.ts';
import { makeJpeg, makePng } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody, licenseBody } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Reason = { code: string; policyId: string; sentence: string };
type Row = { assetId: string; title: string; production: string; rightsHolder: string | null; licenseId: string | null; status: 'available' | 'unavailable'; reasons: Reason[] };
type Page = { use: Record<string, unknown>; policyDigest: string; items: Row[]; nextCursor: string | null };
type GateAnswer = { decision: string; policyDigest: string; assets: { assetId: string; decision: string; reasons: { policyId: string }[]; licenseId: string | null }[] };

const VENDOR = 'acme-vfx';
const VEO = 'veo-3.0-generate-001';
const IMAGEN = 'imagen-4.0-generate-001';
const LIBRARY = 72;

/** A small deterministic generator (mulberry32), so a failing library can be rebuilt from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.skipIf(databaseUnavailable())('availability search (GET /v1/avails)', () => {
  let svc: TestService;
  let legal: string;
  let admin: string;
  let vendor: string;
  let other: string;
  const byKind = new Map<string, string>();
  /** Generated assets that carry a second license. */
  const twoLicenses: string[] = [];
  const all: string[] = [];

  const avails = async (query: Record<string, string>, token = legal, headers: Record<string, string> = {}) =>
    svc.call('GET', `/v1/avails?${new URLSearchParams(query)}`, { token, headers });
  const page = async (query: Record<string, string>, token = legal): Promise<Page> => {
    const res = await avails(query, token);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Page;
  };
  /** Every row, walking the pages. */
  const everything = async (query: Record<string, string>, limit = 1000, token = legal): Promise<Row[]> => {
    const rows: Row[] = [];
    let cursor: string | null = null;
    do {
      const p = await page({ ...query, limit: String(limit), ...(cursor ? { cursor } : {}) }, token);
      rows.push(...p.items);
      cursor = p.nextCursor;
    } while (cursor);
    return rows;
  };

  async function register(asset: Record<string, unknown> = {}) {
    const res = await svc.call('POST', '/v1/assets', { token: legal, json: assetBody(asset) });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    all.push(id);
    return id;
  }
  async function license(assetId: string, over: Record<string, unknown>) {
    const res = await svc.call('POST', `/v1/assets/${assetId}/licenses`, { token: legal, json: licenseBody(over) });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  beforeAll(async () => {
    svc = await startTestService();
    [legal, admin, vendor, other] = await Promise.all([svc.token('legal'), svc.token('admin'), svc.token('vendor'), svc.token('vendor', 'ops@northlight', 'northlight-fx')]);

    // One asset per reason, by name, so each code can be checked on its own ...
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const inTerm = { start: iso(now - 86_400_000 * 30), end: iso(now + 86_400_000 * 365) };
    const kinds: [string, Record<string, unknown> | null][] = [
      ['allowed', { term: inTerm, territories: ['WORLD'], media: ['streaming'] }],
      ['noLicense', null],
      ['revoked', { term: inTerm }],
      ['outsideTerm', { term: { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' } }],
      ['grantNotAllowed', { term: inTerm, grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } }],
      ['requiresApproval', { term: inTerm, grants: { training: 'requiresApproval', derivatives: 'allowed', commercial: 'requiresApproval' } }],
      ['approved', { term: inTerm, grants: { training: 'requiresApproval', derivatives: 'allowed', commercial: 'requiresApproval' } }],
      ['vendorNotNamed', { term: inTerm, vendors: ['northlight-fx'] }],
      ['baseModelNotAllowed', { term: inTerm, baseModelFamilies: ['imagen'] }],
      ['territory', { term: inTerm, territories: ['GB'], media: ['streaming'] }],
    ];
    for (const [kind, terms] of kinds) {
      const id = await register({ title: `kind: ${kind}`, production: 'the-long-stair' });
      byKind.set(kind, id);
      if (!terms) continue;
      const licenseId = await license(id, terms);
      if (kind === 'revoked') {
        expect((await svc.call('POST', `/v1/licenses/${licenseId}/revoke`, { token: legal, json: { reason: 'contract ended' } })).status).toBe(200);
      }
      if (kind === 'approved') {
        for (const grant of ['training', 'commercial']) {
          const res = await svc.call('POST', `/v1/licenses/${licenseId}/approvals`, {
            token: legal,
            json: { vendor: VENDOR, purpose: 'fine-tune', grant, validFrom: iso(now - 86_400_000), validUntil: iso(now + 86_400_000 * 30) },
          });
          expect(res.status).toBe(201);
        }
      }
    }
    // ... art that says itself it must not be trained on (its own C2PA / CAWG training-mining assertions) ...
    const engine = createC2paWasmEngine();
    const identity = createLocalSigningIdentity();
    const signer = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
    const created = { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation' }] } };
    const signed = [
      await engine.sign({
        bytes: makeJpeg({ seed: 41 }),
        mimeType: 'image/jpeg',
        manifest: {
          title: 'c2pa.jpg',
          assertions: [created, trainingMiningAssertion('c2pa', { ai_generative_training: { use: 'notAllowed' }, ai_training: { use: 'notAllowed' } })],
        },
        signer,
      }),
      await engine.sign({
        bytes: makePng({ seed: 42 }),
        mimeType: 'image/png',
        manifest: { title: 'cawg.png', assertions: [created, trainingMiningAssertion('cawg', { ai_training: { use: 'notAllowed' } })] },
        signer,
      }),
    ];
    for (const [i, art] of signed.entries()) {
      const form = new FormData();
      form.set('file', new File([art.bytes], i === 0 ? 'c2pa.jpg' : 'cawg.png', { type: i === 0 ? 'image/jpeg' : 'image/png' }));
      form.set('title', `kind: embeddedNotAllowed ${i}`);
      form.set('creator', 'R. Ortiz');
      form.set('production', 'the-long-stair');
      const res = await svc.call('POST', '/v1/assets', { token: legal, form });
      expect(res.status).toBe(201);
      const id = ((await res.json()) as { id: string }).id;
      all.push(id);
      byKind.set(`embeddedNotAllowed${i}`, id);
      await license(id, { term: inTerm });
    }

    // ... and a generated library mixing every term, seeded.
    const rand = rng(20_261_204);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const second = rng(19);
    const pick2 = <T>(xs: readonly T[]): T => xs[Math.floor(second() * xs.length)]!;
    const grants = ['allowed', 'allowed', 'notAllowed', 'requiresApproval'] as const;
    for (let i = 0; i < LIBRARY; i++) {
      const id = await register({
        title: `generated ${i}, "quoted", with comma`,
        production: pick(['dear-upstairs-neighbors', 'night-shift-pilot']),
        rightsHolder: pick(['Ortiz Studio', 'Nakamura Atelier']),
      });
      if (rand() < 0.1) continue;
      const direct = rand() < 0.25;
      const start = pick([now - 86_400_000 * 400, now - 86_400_000 * 10, now + 86_400_000 * 20]);
      const licenseId = await license(id, {
        licensee: direct ? VENDOR : 'Upstairs Films',
        vendors: direct ? [] : pick([[VENDOR], ['northlight-fx'], [VENDOR, 'northlight-fx']]),
        grants: { training: pick(grants), derivatives: pick(grants), commercial: pick(grants) },
        territories: pick([['US', 'CA'], ['WORLD'], ['GB', 'FR']]),
        media: pick([['theatrical', 'streaming'], ['streaming'], ['broadcast']]),
        ...(rand() < 0.4 ? { baseModelFamilies: pick([['veo'], ['imagen'], ['veo', 'imagen']]) } : {}),
        term: { start: iso(start), end: iso(start + pick([86_400_000 * 100, 86_400_000 * 800])) },
      });
      if (rand() < 0.15)
        await license(id, {
          term: { start: iso(now - 86_400_000), end: iso(now + 86_400_000 * 90) },
          grants: { training: pick(grants), derivatives: 'allowed', commercial: 'allowed' },
        });
      else if (rand() < 0.1) await svc.call('POST', `/v1/licenses/${licenseId}/revoke`, { token: legal, json: { reason: 'generated revocation' } });
      else if (rand() < 0.3) {
        await svc.call('POST', `/v1/licenses/${licenseId}/approvals`, {
          token: legal,
          json: {
            vendor: VENDOR,
            purpose: 'fine-tune',
            grant: pick(['training', 'derivatives', 'commercial']),
            validFrom: iso(now - 86_400_000),
            validUntil: iso(now + 86_400_000 * pick([-0.5, 30])),
          },
        });
      }
      // Some art carries a second license beside the first (issue 19), drawn from its own stream so the
      // first licenses stay as they were: the gate and the search must agree over both.
      if (second() < 0.3) {
        const start2 = pick2([now - 86_400_000 * 200, now - 86_400_000 * 5]);
        const direct2 = second() < 0.5;
        const res = await svc.call('POST', `/v1/assets/${id}/licenses`, {
          token: legal,
          json: licenseBody({
            newLicense: true,
            licensee: direct2 ? VENDOR : 'Merch Co',
            vendors: direct2 ? [] : pick2([[], ['northlight-fx'], [VENDOR]]),
            grants: { training: pick2(grants), derivatives: pick2(grants), commercial: pick2(grants) },
            territories: pick2([['US'], ['WORLD']]),
            media: pick2([['streaming'], ['print', 'streaming']]),
            term: { start: iso(start2), end: iso(start2 + pick2([86_400_000 * 100, 86_400_000 * 800])) },
          }),
        });
        expect(res.status, await res.clone().text()).toBe(201);
        twoLicenses.push(id);
      }
    }
    expect(twoLicenses.length).toBeGreaterThan(5);
  }, 240_000);
  afterAll(async () => svc?.close());

  it('fine-tune: available is exactly what the gate allows over the same assets, with the same reasons', async () => {
    for (const [vendorId, baseModel] of [
      [VENDOR, VEO],
      [VENDOR, IMAGEN],
      ['northlight-fx', VEO],
    ] as const) {
      const at = new Date().toISOString();
      const rows = await everything({ purpose: 'fine-tune', vendor: vendorId, baseModel, date: at }, 25);
      expect(rows.map((r) => r.assetId)).toEqual(all);
      const res = await svc.call('POST', '/v1/gate/evaluate', { token: legal, json: { assetIds: all, purpose: 'fine-tune', vendor: vendorId, baseModel, at } });
      const gate = (await res.json()) as GateAnswer;
      const decided = new Map(gate.assets.map((a) => [a.assetId, a]));
      for (const r of rows) {
        const g = decided.get(r.assetId)!;
        expect([r.assetId, r.status]).toEqual([r.assetId, g.decision === 'allow' ? 'available' : 'unavailable']);
        expect(r.licenseId).toBe(g.licenseId);
        if (r.status === 'unavailable') expect(r.reasons.map((x) => x.policyId)).toEqual(g.reasons.map((x) => x.policyId));
        else expect(r.reasons).toEqual([]);
      }
      // varied: both answers occur
      expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['available', 'unavailable']));
    }
  });

  it('fine-tune: a clearance over the whole library clears exactly the available assets', async () => {
    const ds = await svc.call('POST', '/v1/datasets', { token: legal, json: { name: 'everything', assetIds: all, vendor: VENDOR } });
    const datasetId = ((await ds.json()) as { id: string }).id;
    const rows = await everything({ purpose: 'fine-tune', vendor: VENDOR, baseModel: VEO });
    const res = await svc.call('POST', `/v1/datasets/${datasetId}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: VEO, mode: 'subset' } });
    expect(res.status).toBe(201);
    const clearance = (await res.json()) as { assets: { assetId: string; decision: string }[]; derivedDataset: { id: string } | null };
    const allowed = clearance.assets.filter((a) => a.decision === 'allow').map((a) => a.assetId);
    expect(allowed.sort()).toEqual(
      rows
        .filter((r) => r.status === 'available')
        .map((r) => r.assetId)
        .sort(),
    );
  });

  it('names each reason by its stable code', async () => {
    const rows = new Map((await everything({ purpose: 'fine-tune', vendor: VENDOR, baseModel: VEO })).map((r) => [r.assetId, r]));
    const codes = (kind: string) => rows.get(byKind.get(kind)!)!.reasons.map((r) => r.code);
    expect(rows.get(byKind.get('allowed')!)!.status).toBe('available');
    expect(rows.get(byKind.get('approved')!)!.status).toBe('available');
    expect(codes('noLicense')).toEqual(['noLicense']);
    expect(codes('revoked')).toEqual(['revoked']);
    expect(codes('outsideTerm')).toEqual(['outsideTerm']);
    expect(codes('grantNotAllowed')).toEqual(['grantNotAllowed']);
    expect(codes('requiresApproval')).toEqual(['requiresApproval']);
    expect(codes('vendorNotNamed')).toEqual(['vendorNotNamed']);
    expect(codes('baseModelNotAllowed')).toEqual(['baseModelNotAllowed']);
    expect(codes('embeddedNotAllowed0')).toEqual(['embeddedNotAllowed']);
    expect(codes('embeddedNotAllowed1')).toEqual(['embeddedNotAllowed']);
    for (const r of rows.values()) for (const reason of r.reasons) expect(reason.sentence.length).toBeGreaterThan(10);
    // the proposed use's territory and medium (WORLD covers every territory)
    const us = new Map((await everything({ purpose: 'fine-tune', vendor: VENDOR, baseModel: VEO, territory: 'us', media: 'Streaming' })).map((r) => [r.assetId, r]));
    expect(us.get(byKind.get('allowed')!)!.status).toBe('available');
    expect(us.get(byKind.get('territory')!)!.reasons.map((r) => r.code)).toEqual(['territory']);
    const broadcast = await page({ purpose: 'fine-tune', vendor: VENDOR, baseModel: VEO, media: 'broadcast', production: 'the-long-stair' });
    expect(broadcast.items.find((r) => r.assetId === byKind.get('allowed'))!.reasons.map((r) => r.code)).toEqual(['media']);
    expect(broadcast.use).toMatchObject({ media: 'broadcast', territory: null, vendor: VENDOR });
  });

  it('reference, derivative and commercial ask the derivative and commercial grants', async () => {
    const rows = async (purpose: string) => new Map((await everything({ purpose, vendor: VENDOR, baseModel: VEO })).map((r) => [r.assetId, r]));
    const [reference, derivative, commercial] = [await rows('reference'), await rows('derivative'), await rows('commercial')];
    // training is refused here, derivatives allowed: available as a source, not for fine-tune
    expect(reference.get(byKind.get('grantNotAllowed')!)!.status).toBe('available');
    expect(derivative.get(byKind.get('grantNotAllowed')!)!.status).toBe('available');
    // licenseBody's defaults: derivatives require approval (none recorded), commercial use is not allowed
    expect(reference.get(byKind.get('allowed')!)!.reasons.map((r) => r.policyId)).toEqual(['derivatives-approval-missing']);
    expect(commercial.get(byKind.get('allowed')!)!.reasons.map((r) => [r.code, r.policyId])).toEqual([
      ['requiresApproval', 'derivatives-approval-missing'],
      ['grantNotAllowed', 'commercial-not-allowed'],
    ]);
    expect(commercial.get(byKind.get('grantNotAllowed')!)!.status).toBe('available');
    expect(commercial.get(byKind.get('requiresApproval')!)!.reasons.map((r) => r.code)).toEqual(['requiresApproval']);
    expect(commercial.get(byKind.get('approved')!)!.status).toBe('available');
    expect(reference.get(byKind.get('embeddedNotAllowed0')!)!.reasons.map((r) => r.code)).toEqual(['embeddedNotAllowed', 'requiresApproval']);
    // the sign path's own answer for a source (the derive action) agrees on every asset
    for (const [assetId, r] of reference) expect(derivative.get(assetId)!.status).toBe(r.status);
  });

  it('pages by cursor, filters by status, production and rights holder', async () => {
    const q = { purpose: 'fine-tune', vendor: VENDOR, baseModel: VEO };
    const whole = await everything(q);
    const available = await everything({ ...q, status: 'available' }, 4);
    expect(available.map((r) => r.assetId)).toEqual(whole.filter((r) => r.status === 'available').map((r) => r.assetId));
    const unavailable = await everything({ ...q, status: 'unavailable' }, 9);
    expect(unavailable.map((r) => r.assetId)).toEqual(whole.filter((r) => r.status === 'unavailable').map((r) => r.assetId));
    const first = await page({ ...q, limit: '5' });
    expect(first.items).toHaveLength(5);
    expect(first.nextCursor).not.toBeNull();
    const studio = await everything({ ...q, production: 'night-shift-pilot', rightsHolder: 'Nakamura Atelier' });
    expect(studio.length).toBeGreaterThan(0);
    expect(studio.every((r) => r.production === 'night-shift-pilot' && r.rightsHolder === 'Nakamura Atelier')).toBe(true);
    expect(studio.map((r) => r.assetId)).toEqual(whole.filter((r) => r.production === 'night-shift-pilot' && r.rightsHolder === 'Nakamura Atelier').map((r) => r.assetId));
  });

  it('reads and decides the library batch by batch (the next read while this one is decided): the same rows whatever the batch', async () => {
    const deps = svc.runtime.ctx;
    const use = proposedUse({ sub: 'legal', role: 'legal' }, { purpose: 'fine-tune', vendor: VENDOR, baseModel: VEO });
    const whole = await searchAvails(deps, { use, limit: 1000 });
    expect(whole.items.map((i) => i.assetId)).toEqual(all);
    for (const scanBatch of [3, 7]) {
      for (const status of ['available', 'unavailable'] as const) {
        const want = whole.items.filter((i) => i.status === status);
        expect((await searchAvails(deps, { use, status, limit: 1000, scanBatch })).items, `${status} by ${scanBatch}`).toEqual(want);
        // Paged four at a time across batches: the same rows, in order, and a cursor until the last.
        const paged: typeof want = [];
        let after: number | undefined;
        for (;;) {
          const p = await searchAvails(deps, { use, status, limit: 4, scanBatch, ...(after !== undefined ? { after } : {}) });
          paged.push(...p.items);
          if (p.nextCursor === null) break;
          after = Number(p.nextCursor);
        }
        expect(paged, `${status} paged by ${scanBatch}`).toEqual(want);
      }
      // No status: a page larger than a batch.
      expect((await searchAvails(deps, { use, limit: 1000, scanBatch })).items).toEqual(whole.items);
    }
  });

  it('answers the same rows as CSV (RFC 4180)', async () => {
    const q = { purpose: 'fine-tune', vendor: VENDOR, baseModel: VEO, limit: '30' };
    const json = await page(q);
    const res = await avails(q, legal, { accept: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('clearframe-next-cursor')).toBe(json.nextCursor);
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const records = parseCsv(text);
    expect(records[0]).toEqual(['assetId', 'title', 'production', 'rightsHolder', 'licenseId', 'status', 'reasonCodes', 'policyIds', 'reasons']);
    expect(records.slice(1).map((r) => [r[0], r[1], r[5], r[6]])).toEqual(json.items.map((i) => [i.assetId, i.title, i.status, i.reasons.map((x) => x.code).join(' ')]));
    // JSON stays the default, and wins when listed first
    expect((await avails(q, legal, { accept: 'application/json, text/csv' })).headers.get('content-type')).toMatch(/json/);
  });

  it('refuses what it cannot answer, as problem+json, and keeps a vendor to itself', async () => {
    const q = { purpose: 'fine-tune', baseModel: VEO };
    const unknown = await avails({ ...q, vendor: VENDOR, colour: 'blue' });
    expect(unknown.status).toBe(422);
    expect(unknown.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await avails({ ...q, vendor: VENDOR, purpose: 'merchandise' })).status).toBe(422);
    expect((await avails({ ...q, vendor: VENDOR, territory: 'XX' })).status).toBe(422);
    expect((await avails({ ...q, vendor: VENDOR, date: 'yesterday' })).status).toBe(422);
    expect((await avails({ ...q, vendor: VENDOR, limit: '0' })).status).toBe(422);
    expect((await avails(q)).status).toBe(422); // legal must say which vendor
    expect((await avails({ ...q, vendor: 'northlight-fx' }, vendor)).status).toBe(403);
    expect((await avails({ ...q, vendor: VENDOR }, await svc.token('distributor'))).status).toBe(403);
    expect((await svc.call('GET', `/v1/avails?${new URLSearchParams({ ...q, vendor: VENDOR })}`)).status).toBe(401);
    // a vendor asks for itself, with or without naming itself, and sees only the art licensed to it;
    // admin may ask for anyone and sees the whole library
    const own = await page({ ...q, limit: '1000' }, vendor);
    expect(own.use.vendor).toBe(VENDOR);
    expect((await page({ ...q, vendor: VENDOR, limit: '1000' }, vendor)).items).toEqual(own.items);
    const whole = await page({ ...q, vendor: VENDOR, limit: '1000' }, admin);
    // Art with two licenses is the vendor's to see when either names it (a deny then gives both licenses' reasons).
    const namedOnEither = new Set<string>();
    for (const id of twoLicenses) {
      const res = await svc.call('GET', `/v1/licenses?assetId=${id}`, { token: legal });
      const ls = ((await res.json()) as { items: { licensee: string; vendors: string[] }[] }).items;
      if (ls.some((l) => l.licensee === VENDOR || l.vendors.includes(VENDOR))) namedOnEither.add(id);
    }
    const licensedToVendor = whole.items.filter((r) =>
      twoLicenses.includes(r.assetId) ? namedOnEither.has(r.assetId) : r.licenseId !== null && !r.reasons.some((x) => x.code === 'vendorNotNamed'),
    );
    expect(own.items).toEqual(licensedToVendor);
    expect(own.items.length).toBeLessThan(whole.items.length);
    expect(own.items.some((r) => r.assetId === byKind.get('vendorNotNamed') || r.assetId === byKind.get('noLicense'))).toBe(false);
    expect(own.items.some((r) => r.assetId === byKind.get('revoked'))).toBe(true); // licensed to it, then revoked
    // paged, a vendor's view is the same rows
    expect((await everything({ ...q }, 3, vendor)).map((r) => r.assetId)).toEqual(own.items.map((r) => r.assetId));
    const theirs = await page({ ...q, limit: '1000' }, other);
    expect(theirs.use.vendor).toBe('northlight-fx');
    expect(theirs.items.some((r) => r.assetId === byKind.get('vendorNotNamed'))).toBe(true);
  });

  it('freezes exactly the available assets into a dataset (fromAvails)', async () => {
    const selection = { purpose: 'fine-tune', vendor: VENDOR, baseModel: VEO, production: 'dear-upstairs-neighbors' };
    const available = (await everything({ ...selection, status: 'available' })).map((r) => r.assetId);
    expect(available.length).toBeGreaterThan(0);
    const res = await svc.call('POST', '/v1/datasets', { token: vendor, json: { name: 'available DUN art', fromAvails: selection } });
    expect(res.status, await res.clone().text()).toBe(201);
    const ds = (await res.json()) as { id: string; assetCount: number; ownerVendor: string };
    expect(ds).toMatchObject({ assetCount: available.length, ownerVendor: VENDOR });
    const members = ((await (await svc.call('GET', `/v1/datasets/${ds.id}`, { token: vendor })).json()) as { assets: { assetId: string }[] }).assets.map((a) => a.assetId);
    expect(members.sort()).toEqual([...available].sort());
    // and a clearance on it allows every member
    const clr = (await (await svc.call('POST', `/v1/datasets/${ds.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: VEO } })).json()) as {
      decision: string;
    };
    expect(clr.decision).toBe('allow');
    // a vendor's selection is its own; both lists, or none available, are refused and record nothing
    expect((await svc.call('POST', '/v1/datasets', { token: vendor, json: { name: 'x', fromAvails: { ...selection, vendor: 'northlight-fx' } } })).status).toBe(403);
    expect((await svc.call('POST', '/v1/datasets', { token: legal, json: { name: 'x', fromAvails: selection, assetIds: [all[0]] } })).status).toBe(422);
    expect((await svc.call('POST', '/v1/datasets', { token: legal, json: { name: 'x' } })).status).toBe(422);
    expect((await svc.call('POST', '/v1/datasets', { token: legal, json: { name: 'x', fromAvails: { ...selection, status: 'available' } } })).status).toBe(422);
    const none = await svc.call('POST', '/v1/datasets', { token: legal, json: { name: 'x', fromAvails: { ...selection, production: 'no-such-film' } } });
    expect(none.status).toBe(422);
    expect(((await none.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe('fromAvails');
    // the list form is as before
    expect((await svc.call('POST', '/v1/datasets', { token: legal, json: { name: 'listed', assetIds: [all[0]] } })).status).toBe(201);
  });
});
