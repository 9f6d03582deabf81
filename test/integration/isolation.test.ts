import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint, dataset, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Problem = { status: number; detail: string; type: string };

// What one vendor may learn of another's (and of the studio's) work: nothing, not even that it exists.
describe.skipIf(databaseUnavailable())('isolation between vendors and disclosure', () => {
  let svc: TestService;
  let legal: string;
  let acme: string;
  let other: string;
  beforeAll(async () => {
    svc = await startTestService();
    [legal, acme, other] = await Promise.all([svc.token('legal'), svc.token('vendor', 'ml@acme', 'acme-vfx'), svc.token('vendor', 'x@other', 'other-house')]);
  });
  afterAll(async () => svc?.close());

  /** Status and body of an answer, with the id it names replaced, to compare two answers whole. */
  const answer = async (res: Response, id: string) => {
    const body = (await res.json()) as Problem & { instance?: string };
    return { status: res.status, type: body.type, detail: body.detail.replaceAll(id, 'ID') };
  };

  it('a dataset belongs to whoever froze it: other vendors get the 404 of an unknown id on every read', async () => {
    const a = await licensedAsset(svc, legal);
    const b = await licensedAsset(svc, legal);
    const mine = await dataset(svc, acme, [a.assetId]);
    const studio = await dataset(svc, legal, [a.assetId, b.assetId]);
    const forAcme = await dataset(svc, legal, [b.assetId], 'for acme', 'acme-vfx');
    const unknown = 'dst_AAAAAAAAAAAAAAAA';
    const reads = (id: string) => [`/v1/datasets/${id}`, `/v1/datasets/${id}/proofs/inclusion?assetId=${a.assetId}`];

    for (const id of [mine.id, studio.id, forAcme.id]) {
      for (const url of reads(id)) expect((await svc.call('GET', url, { token: legal })).status).toBe(200);
    }
    for (const url of [...reads(mine.id), ...reads(forAcme.id)]) expect((await svc.call('GET', url, { token: acme })).status).toBe(200);
    // Another vendor's dataset, and the studio's, read as an unknown id does.
    for (const [token, id] of [
      [other, mine.id],
      [other, forAcme.id],
      [acme, studio.id],
      [other, studio.id],
    ] as const) {
      for (const [i, url] of reads(id).entries()) {
        const res = await svc.call('GET', url, { token });
        expect(await answer(res, id)).toEqual(await answer(await svc.call('GET', reads(unknown)[i]!, { token }), unknown));
      }
      const ask = await svc.call('POST', `/v1/datasets/${id}/clearances`, { token, json: { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001' } });
      expect(ask.status).toBe(404);
    }

    const list = async (token: string) => ((await (await svc.call('GET', '/v1/datasets?limit=200', { token })).json()) as { items: { id: string }[] }).items.map((d) => d.id);
    expect(new Set(await list(acme))).toEqual(new Set([mine.id, forAcme.id]));
    expect(await list(other)).toEqual([]);
    expect(await list(legal)).toEqual(expect.arrayContaining([mine.id, studio.id, forAcme.id]));

    // A vendor freezes for itself only; legal names the vendor it freezes for.
    const forOther = await svc.call('POST', '/v1/datasets', { token: acme, json: { name: 'x', assetIds: [a.assetId], vendor: 'other-house' } });
    expect(forOther.status).toBe(403);
    expect(((await svc.call('GET', `/v1/datasets/${forAcme.id}`, { token: legal }).then((r) => r.json())) as { ownerVendor: string }).ownerVendor).toBe('acme-vfx');
  });

  it('a studio dataset cleared for a vendor in subset mode gives that vendor a subset it can read', async () => {
    const a = await licensedAsset(svc, legal);
    const denied = await licensedAsset(svc, legal, { grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } });
    const studio = await dataset(svc, legal, [a.assetId, denied.assetId]);
    const res = await svc.call('POST', `/v1/datasets/${studio.id}/clearances`, {
      token: legal,
      json: { vendor: 'acme-vfx', purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001', mode: 'subset' },
    });
    const clearance = (await res.json()) as { decision: string; datasetId: string };
    expect(res.status, JSON.stringify(clearance)).toBe(201);
    expect(clearance.decision).toBe('allow');
    expect(clearance.datasetId).not.toBe(studio.id);
    expect((await svc.call('GET', `/v1/datasets/${clearance.datasetId}`, { token: acme })).status).toBe(200);
    expect((await svc.call('GET', `/v1/datasets/${clearance.datasetId}`, { token: other })).status).toBe(404);
  });

  it("another vendor's clearance on /v1/checkpoints and /v1/tuning-jobs is the 404 of an unknown id", async () => {
    const { clearance, checkpoint } = await activeCheckpoint(svc, legal, acme);
    const unknown = 'clr_AAAAAAAAAAAAAAAA';
    const body = (clearanceId: string) => ({ clearanceId, baseModel: 'imagen-4.0-generate-001', externalRef: 's3://other/x', artifactDigest: `sha256:${'34'.repeat(32)}` });
    for (const url of ['/v1/checkpoints', '/v1/tuning-jobs']) {
      const json = (id: string) => (url === '/v1/checkpoints' ? body(id) : { clearanceId: id, baseModel: 'imagen-4.0-generate-001', trainingDataUri: 'gs://other/x.jsonl' });
      const theirs = await answer(await svc.call('POST', url, { token: other, json: json(clearance.id) }), clearance.id);
      const none = await answer(await svc.call('POST', url, { token: other, json: json(unknown) }), unknown);
      expect(theirs).toEqual(none);
      expect(theirs.status).toBe(404);
    }
    // The reads answer the same way.
    for (const [url, id, missing] of [
      [`/v1/clearances/${clearance.id}`, clearance.id, `/v1/clearances/${unknown}`],
      [`/v1/checkpoints/${checkpoint.id}`, checkpoint.id, '/v1/checkpoints/ckp_AAAAAAAAAAAAAAAA'],
    ] as const) {
      const theirs = await answer(await svc.call('GET', url, { token: other }), id);
      const none = await answer(await svc.call('GET', missing, { token: other }), missing.split('/').pop()!);
      expect(theirs).toEqual(none);
      expect(theirs.status).toBe(404);
    }
    for (const url of [`/v1/clearances?datasetId=x`, `/v1/checkpoints?clearanceId=${clearance.id}`]) {
      expect(((await (await svc.call('GET', url, { token: other })).json()) as { items: unknown[] }).items).toEqual([]);
    }
  });

  it('refuses a token whose lifetime exceeds the bound, or that has no iat, with a 401 naming why', async () => {
    const { issuer, audience } = svc.runtime.ctx.config.auth;
    const max = svc.runtime.ctx.config.tokenMaxLifetimeSeconds;
    const key = svc.runtime.ctx.keyring.tokenIssuer;
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: { iat?: number; exp: number }) => {
      const jwt = new SignJWT({ role: 'legal' }).setProtectedHeader({ alg: 'ES256', kid: key.signer.kid }).setIssuer(issuer).setAudience(audience).setSubject('x');
      if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
      return jwt.setExpirationTime(claims.exp).sign(key.privateKey);
    };
    const cases: [{ iat?: number; exp: number }, number, RegExp | null][] = [
      [{ iat: now, exp: now + max }, 200, null],
      [{ iat: now, exp: now + max + 1 }, 401, /lifetime \(exp - iat\) is \d+ s, longer than/],
      [{ exp: now + 600 }, 401, /no "iat"/],
      [{ iat: now + 10 * 365 * 86400, exp: now + 10 * 365 * 86400 + 600 }, 401, /in the future/],
    ];
    for (const [claims, status, detail] of cases) {
      const res = await svc.call('GET', '/v1/assets', { token: await sign(claims) });
      expect(res.status, JSON.stringify(claims)).toBe(status);
      if (detail) {
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(((await res.json()) as Problem).detail).toMatch(detail);
      }
    }
  });
});

describe.skipIf(databaseUnavailable())('a configured token lifetime bound', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600', TOKEN_MAX_TTL_SECONDS: '3600' });
  });
  afterAll(async () => svc?.close());

  it('refuses a token the issuer would mint for longer', async () => {
    const { issuer, audience } = svc.runtime.ctx.config.auth;
    const key = svc.runtime.ctx.keyring.tokenIssuer;
    const { issueToken } = await import('../../src/auth/tokens.ts');
    const mint = (ttl: string) => issueToken({ privateKey: key.privateKey, kid: key.signer.kid }, { issuer, audience, sub: 'x', role: 'legal', ttl });
    expect((await svc.call('GET', '/v1/assets', { token: await mint('1h') })).status).toBe(200);
    expect((await svc.call('GET', '/v1/assets', { token: await mint('2h') })).status).toBe(401);
  });
});
