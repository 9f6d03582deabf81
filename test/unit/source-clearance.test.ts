import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SHIPPED_POLICIES_DIR } from '../../src/config/config.ts';
import type { PolicySet } from '../../src/gate/policy-engine.ts';
import type { AssetFacts, LicenseFacts } from '../../src/gate/policy-input.ts';
import { loadPolicySet } from '../../src/gate/policy-loader.ts';
import { sourceRefusals, sourcesProblem } from '../../src/outputs/source-clearance.ts';

// The shipped Cedar policies decide (action `derive`): reasons come in policy order (file name order,
// then position: c2pa.cedar, derive.cedar, license.cedar, training.cedar).
let policies: PolicySet;
beforeAll(async () => {
  policies = await loadPolicySet(SHIPPED_POLICIES_DIR);
});

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
const causes = (a: AssetFacts) => sourceRefusals(policies, [a], use).map((r) => r.cause);

describe('sourceRefusals: may this art be used as an output source (the gate’s derive decision)', () => {
  it('clears a standing license with a derivative grant for the vendor', () => {
    expect(sourceRefusals(policies, [asset()], use)).toEqual([]);
    expect(causes(asset({ license: license({ licensee: 'acme-vfx', vendors: [] }) }))).toEqual([]);
  });

  it('names every reason that applies', () => {
    expect(causes(asset({ license: null }))).toEqual(['license-missing']);
    expect(causes(asset({ license: license({ revoked: true, vendors: ['other'], grants: { training: 'allowed', derivatives: 'notAllowed', commercial: 'allowed' } }) }))).toEqual([
      'derivatives-not-allowed',
      'license-revoked',
      'vendor-not-licensed',
    ]);
    expect(causes(asset({ c2paTrainingMining: 'notAllowed', cawgTrainingMining: 'notAllowed', license: null }))).toEqual([
      'c2pa-training-mining-not-allowed',
      'cawg-training-mining-not-allowed',
      'license-missing',
    ]);
    expect(causes(asset({ c2paTrainingMining: 'constrained' }))).toEqual([]);
  });

  it('reads the term as [start, end)', () => {
    expect(causes(asset({ license: license({ termEnd: '2027-06-01T00:00:00.000Z' }) }))).toEqual(['license-outside-term']);
    expect(causes(asset({ license: license({ termStart: '2027-06-01T00:00:00.000Z' }) }))).toEqual([]);
    // an unreadable term clears nothing
    expect(causes(asset({ license: license({ termStart: 'garbage' }) }))).toEqual(['invalid-facts']);
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
      policies,
      [asset({ assetId: 'ast_a', license: null }), asset({ assetId: 'ast_b' }), asset({ assetId: 'ast_c', license: license({ revoked: true }) })],
      use,
    );
    const p = sourcesProblem(refused);
    expect(p.status).toBe(409);
    expect(p.extensions.refusedAssetIds).toEqual(['ast_a', 'ast_c']);
    expect(p.message).toContain('ast_a (license-missing)');
    expect(p.message).toContain('ast_c (license-revoked)');
  });

  it('fails closed on art whose own manifest cannot be validated, until legal overrides it', () => {
    for (const state of ['invalid', 'damaged', 'unreadable'] as const) {
      expect(causes(asset({ embeddedManifest: state }))).toEqual(['embedded-manifest-unreadable']);
      expect(causes(asset({ embeddedManifest: state, embeddedOverride: true }))).toEqual([]);
    }
    expect(causes(asset({ embeddedManifest: 'invalid', c2paTrainingMining: 'notAllowed' }))).toEqual(['embedded-manifest-unreadable', 'c2pa-training-mining-not-allowed']);
    expect(causes(asset({ embeddedManifest: 'valid' }))).toEqual([]);
  });

  it('is decided by the policy files: an edit changes the outcome', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clearframe-derive-'));
    try {
      cpSync(SHIPPED_POLICIES_DIR, dir, { recursive: true });
      const noDerivatives = asset({ license: license({ grants: { training: 'allowed', derivatives: 'notAllowed', commercial: 'allowed' } }) });
      expect(causes(noDerivatives)).toEqual(['derivatives-not-allowed']);
      // The studio lets derivative use ride on the training grant: the permit and the forbid say so.
      const file = path.join(dir, 'derive.cedar');
      const edited = readFileSync(file, 'utf8')
        .replace('context.license.grants.derivatives == Clearframe::Grant::"allowed" ||', 'context.license.grants.training == Clearframe::Grant::"allowed" ||')
        .replace(/@id\("derivatives-not-allowed"\)[\s\S]*?\};\n/, '');
      writeFileSync(file, edited);
      writeFileSync(
        path.join(dir, 'studio.cedar'),
        '@id("no-derivatives-for-dun")\n@reason("No derivative use of DUN art this season.")\nforbid (principal, action == Clearframe::Action::"derive", resource)\nwhen { resource.production == "dun-2" };\n',
      );
      const edit = await loadPolicySet(dir);
      expect(edit.digest).not.toBe(policies.digest);
      expect(sourceRefusals(edit, [noDerivatives], use)).toEqual([]);
      expect(sourceRefusals(edit, [asset({ production: 'dun-2' })], use).map((r) => r.cause)).toEqual(['no-derivatives-for-dun']);
      // training is untouched by a derive-only policy
      expect(edit.evaluate({ ...use, at: use.at.toISOString() }, [asset({ production: 'dun-2' })])[0]!.decision).toBe('allow');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
