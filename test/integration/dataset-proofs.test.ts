import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MembershipProof, verifyAbsence, verifyMembership } from '../../src/datasets/digest.ts';
import { databaseUnavailable } from '../support/db.ts';
import { randomSha } from '../support/fixtures.ts';
import { dataset, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Answer = { included: boolean; assetId: string; memberAssetId: string | null; proof: MembershipProof | null; absence: MembershipProof[] | null };

// The digest commits to content (the members' sha256), not to asset ids: a proof answers for the bytes.
describe.skipIf(databaseUnavailable())('dataset proofs answer by content hash', () => {
  let svc: TestService;
  let legal: string;
  const proof = async (datasetId: string, assetId: string) =>
    (await (await svc.call('GET', `/v1/datasets/${datasetId}/proofs/inclusion?assetId=${assetId}`, { token: legal })).json()) as Answer;

  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal');
  });
  afterAll(async () => svc?.close());

  it('proves the same bytes registered under another production as members, with the member they are listed as', async () => {
    const sha256 = randomSha();
    const a = await licensedAsset(svc, legal, {}, { sha256, production: 'dear-upstairs-neighbors' });
    const b = await licensedAsset(svc, legal, {}, { sha256, production: 'the-other-film' });
    const others = await Promise.all([1, 2, 3].map(() => licensedAsset(svc, legal)));
    const d = await dataset(svc, legal, [b.assetId, ...others.map((o) => o.assetId)]);

    const viaOther = await proof(d.id, a.assetId);
    expect(viaOther.included).toBe(true);
    expect(viaOther.memberAssetId).toBe(b.assetId);
    expect(viaOther.proof!.sha256).toBe(sha256);
    expect(verifyMembership(d.digest, viaOther.proof!)).toBe(true);

    const itself = await proof(d.id, b.assetId);
    expect(itself).toMatchObject({ included: true, memberAssetId: b.assetId });
    expect(verifyMembership(d.digest, itself.proof!)).toBe(true);
  });

  it('proves each of two members with equal bytes at its own position, and absence still verifies', async () => {
    const sha256 = randomSha();
    const a = await licensedAsset(svc, legal, {}, { sha256, production: 'film-one' });
    const b = await licensedAsset(svc, legal, {}, { sha256, production: 'film-two' });
    const outsider = await licensedAsset(svc, legal);
    const d = await dataset(svc, legal, [a.assetId, b.assetId]);
    const [pa, pb] = [await proof(d.id, a.assetId), await proof(d.id, b.assetId)];
    expect([pa.memberAssetId, pb.memberAssetId]).toEqual([a.assetId, b.assetId]);
    expect(pa.proof!.index).not.toBe(pb.proof!.index);
    expect(verifyMembership(d.digest, pa.proof!) && verifyMembership(d.digest, pb.proof!)).toBe(true);

    const out = await proof(d.id, outsider.assetId);
    expect(out).toMatchObject({ included: false, memberAssetId: null, proof: null });
    expect(verifyAbsence(d.digest, outsider.sha256, out.absence!)).toBe(true);
  });
});
