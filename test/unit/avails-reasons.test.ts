import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { AVAIL_REASON_CODES, availReasons, CODE_BY_POLICY, gateRequestFor, reasonCode, unmappedPolicies } from '../../src/avails/reasons.ts';
import { type PolicySet, SYNTHETIC_POLICY_IDS } from '../../src/gate/policy-engine.ts';
import { loadPolicySet } from '../../src/gate/policy-loader.ts';

const POLICY_DIR = fileURLToPath(new URL('../../policies', import.meta.url));

let shipped: PolicySet;
beforeAll(async () => {
  shipped = await loadPolicySet(POLICY_DIR);
});

describe('avails reason codes', () => {
  it('every policy in policies/ has a code (forbids) or is a known permit', () => {
    expect(unmappedPolicies(shipped.policies)).toEqual([]);
    for (const p of shipped.policies.filter((x) => x.effect === 'forbid')) expect(reasonCode(p.id)).not.toBe('otherPolicy');
  });

  it('a policy added without a code is named, and answers otherPolicy', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'clearframe-avails-codes-'));
    try {
      for (const f of await readdir(POLICY_DIR)) await copyFile(path.join(POLICY_DIR, f), path.join(dir, f));
      await writeFile(
        path.join(dir, 'zz-new.cedar'),
        '@id("production-embargoed")\n@reason("This production is under embargo.")\nforbid (principal, action == Clearframe::Action::"train", resource) when { resource.production == "embargoed" };\n',
      );
      const set = await loadPolicySet(dir);
      expect(unmappedPolicies(set.policies)).toEqual(['production-embargoed']);
      expect(reasonCode('production-embargoed')).toBe('otherPolicy');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the engine’s own denies have codes, and the codes the issue names are all there', () => {
    for (const id of Object.values(SYNTHETIC_POLICY_IDS)) expect(reasonCode(id)).not.toBe('otherPolicy');
    for (const code of [
      'noLicense',
      'revoked',
      'outsideTerm',
      'grantNotAllowed',
      'requiresApproval',
      'vendorNotNamed',
      'baseModelNotAllowed',
      'embeddedNotAllowed',
      'territory',
      'media',
    ]) {
      expect(AVAIL_REASON_CODES).toContain(code);
      expect(Object.values(CODE_BY_POLICY)).toContain(code);
    }
    // no inherited keys count as policies
    expect(reasonCode('constructor')).toBe('otherPolicy');
    expect(reasonCode('__proto__')).toBe('otherPolicy');
  });

  it('maps the engine’s reasons in order, each with its words', () => {
    expect(
      availReasons([
        { policyId: 'license-revoked', reason: 'The asset’s current license has been revoked.' },
        { policyId: 'territory-not-licensed', reason: 'The proposed territory is not among the license’s territories.' },
      ]),
    ).toEqual([
      { code: 'revoked', policyId: 'license-revoked', sentence: 'The asset’s current license has been revoked.' },
      { code: 'territory', policyId: 'territory-not-licensed', sentence: 'The proposed territory is not among the license’s territories.' },
    ]);
  });

  it('fine-tune is a clearance’s own request; the other purposes are derive, commercial with its grant', () => {
    const use = { vendor: 'acme-vfx', baseModel: 'veo-3.0-generate-001', at: '2026-06-01T00:00:00.000Z' };
    expect(gateRequestFor({ ...use, purpose: 'fine-tune' })).toEqual({ action: 'train', purpose: 'fine-tune', ...use });
    expect(gateRequestFor({ ...use, purpose: 'reference', territory: 'US' })).toEqual({ action: 'derive', purpose: 'fine-tune', territory: 'US', ...use });
    expect(gateRequestFor({ ...use, purpose: 'derivative' })).toEqual({ action: 'derive', purpose: 'fine-tune', ...use });
    expect(gateRequestFor({ ...use, purpose: 'commercial', media: 'streaming' })).toEqual({ action: 'derive', purpose: 'fine-tune', media: 'streaming', commercial: true, ...use });
  });
});
