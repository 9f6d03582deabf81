import { describe, expect, it } from 'vitest';
import type { AssetFacts, LicenseFacts } from '../../src/gate/policy-input.ts';
import { sourceRefusals, sourcesProblem } from '../../src/outputs/source-clearance.ts';

const license = (over: Partial<LicenseFacts> = {}): LicenseFacts => ({
  id: 'lic_1',
  version: 1,
  revoked: false,
  superseded: false,
  licensee: 'Upstairs Films',
  vendors: ['acme-vfx'],
  grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' },
  termStart: '2026-01-01T00:00:00.000Z',
  termEnd: '2028-12-31T23:59:59.000Z',
  territories: ['US'],
  media: ['streaming'],
  baseModelFamilies: null,
  ...over,
});
const asset = (over: Partial<AssetFacts> = {}): AssetFacts => ({ assetId: 'ast_1', sha256: '', production: 'dun', license: license(), approvals: [], ...over });
const use = { vendor: 'acme-vfx', purpose: 'fine-tune' as const, baseModel: 'imagen-4.0-generate-001', at: new Date('2027-06-01T00:00:00Z') };
const causes = (a: AssetFacts) => sourceRefusals([a], use).map((r) => r.cause);

describe('sourceRefusals: may this art be used as an output source (pure)', () => {
  it('clears a standing license with a derivative grant for the vendor', () => {
    expect(sourceRefusals([asset()], use)).toEqual([]);
    expect(causes(asset({ license: license({ licensee: 'acme-vfx', vendors: [] }) }))).toEqual([]);
  });

  it('names every reason that applies', () => {
    expect(causes(asset({ license: null }))).toEqual(['license-missing']);
    expect(causes(asset({ license: license({ revoked: true, vendors: ['other'], grants: { training: 'allowed', derivatives: 'notAllowed', commercial: 'allowed' } }) }))).toEqual([
      'license-revoked',
      'vendor-not-licensed',
      'derivatives-not-allowed',
    ]);
    expect(causes(asset({ c2paTrainingMining: 'notAllowed', cawgTrainingMining: 'notAllowed', license: null }))).toEqual([
      'license-missing',
      'c2pa-training-mining-not-allowed',
      'cawg-training-mining-not-allowed',
    ]);
    expect(causes(asset({ c2paTrainingMining: 'constrained' }))).toEqual([]);
  });

  it('reads the term as [start, end)', () => {
    expect(causes(asset({ license: license({ termEnd: '2027-06-01T00:00:00.000Z' }) }))).toEqual(['license-outside-term']);
    expect(causes(asset({ license: license({ termStart: '2027-06-01T00:00:00.000Z' }) }))).toEqual([]);
    expect(causes(asset({ license: license({ termStart: 'garbage' }) }))).toEqual(['license-outside-term']);
  });

  it('needs a covering approval where the derivative grant requires one', () => {
    const needs = license({ grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' } });
    const approval = { vendor: 'acme-vfx', purpose: 'fine-tune', validFrom: '2027-01-01T00:00:00Z', validUntil: '2028-01-01T00:00:00Z' };
    expect(causes(asset({ license: needs }))).toEqual(['derivatives-approval-missing']);
    expect(causes(asset({ license: needs, approvals: [approval] }))).toEqual([]);
    expect(causes(asset({ license: needs, approvals: [{ ...approval, vendor: 'other' }] }))).toEqual(['derivatives-approval-missing']);
    expect(causes(asset({ license: needs, approvals: [{ ...approval, validUntil: '2027-06-01T00:00:00Z' }] }))).toEqual(['derivatives-approval-missing']);
  });

  it('answers 409 naming each refused asset', () => {
    const refused = sourceRefusals(
      [asset({ assetId: 'ast_a', license: null }), asset({ assetId: 'ast_b' }), asset({ assetId: 'ast_c', license: license({ revoked: true }) })],
      use,
    );
    const p = sourcesProblem(refused);
    expect(p.status).toBe(409);
    expect(p.extensions.refusedAssetIds).toEqual(['ast_a', 'ast_c']);
    expect(p.message).toContain('ast_a (license-missing)');
    expect(p.message).toContain('ast_c (license-revoked)');
  });
});
