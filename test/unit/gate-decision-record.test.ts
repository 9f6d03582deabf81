import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/audit/canonical-json.ts';
import { planClearance } from '../../src/gate/clearance-plan.ts';
import { type AssetOutcome, compactDecisions, expandDecisions, isDecisionRecord, outcomesDigest } from '../../src/gate/decision-record.ts';
import type { AssetFacts } from '../../src/gate/policy-input.ts';

const permitted = Object.freeze([{ policyId: 'training-permitted', reason: 'The current license allows it.' }]);
const notAllowed = Object.freeze([{ policyId: 'training-not-allowed', reason: 'The license does not allow training.' }]);
const missing = Object.freeze([{ policyId: 'license-missing', reason: 'The asset has no current license.' }]);

/** n members, every seventh denied for its grant, member 3 without a license; reasons arrays shared. */
function outcomesOf(n: number): AssetOutcome[] {
  return Array.from({ length: n }, (_, i): AssetOutcome => {
    if (i === 3) return { assetId: `ast_${i}`, decision: 'deny', reasons: missing as AssetOutcome['reasons'], licenseId: null };
    const deny = i % 7 === 0;
    return { assetId: `ast_${i}`, decision: deny ? 'deny' : 'allow', reasons: (deny ? notAllowed : permitted) as AssetOutcome['reasons'], licenseId: `lic_${i}` };
  });
}

describe('compact clearance decision records', () => {
  it('names members by position, lists nothing for the largest group, and expands back to every outcome', () => {
    const outcomes = outcomesOf(50);
    const record = compactDecisions(outcomes);
    expect(isDecisionRecord(record)).toBe(true);
    expect(record.assetCount).toBe(50);
    expect(record.groups).toHaveLength(3);
    expect(record.groups.find((g) => g.positions === null)).toMatchObject({ decision: 'allow', reasons: [...permitted] });
    expect(record.groups.find((g) => g.decision === 'deny' && g.reasons[0]!.policyId === 'license-missing')!.positions).toEqual([3]);
    expect(JSON.stringify(record)).not.toMatch(/ast_|lic_/);
    const members = outcomes.map((o) => ({ assetId: o.assetId, licenseId: o.licenseId }));
    expect(expandDecisions(JSON.parse(JSON.stringify(record)), members)).toEqual(outcomes);
  });

  it('refuses to expand over a dataset of another size', () => {
    const record = compactDecisions(outcomesOf(5));
    expect(() => expandDecisions(record, outcomesOf(4))).toThrow(/covers 5 members/);
  });

  it('digests as RFC 8785 canonical JSON would, across the hashing slices and with shared reasons', () => {
    for (const n of [0, 1, 511, 512, 513, 1500]) {
      const outcomes = outcomesOf(n);
      expect(outcomesDigest(outcomes)).toBe(createHash('sha256').update(canonicalize(outcomes)).digest('hex'));
    }
  });
});

describe('clearance plan', () => {
  const at = new Date('2026-06-01T00:00:00.000Z');
  const factsOf = (outcomes: AssetOutcome[], termEnd: (i: number) => string): AssetFacts[] =>
    outcomes.map((o, i) => ({
      assetId: o.assetId,
      sha256: '',
      production: 'p',
      approvals: [],
      license: o.licenseId
        ? {
            id: o.licenseId,
            version: 1,
            revoked: false,
            superseded: false,
            licensee: 'v',
            vendors: [],
            grants: { training: 'allowed', derivatives: 'allowed', commercial: 'allowed' },
            termStart: '2026-01-01T00:00:00.000Z',
            termEnd: termEnd(i),
            territories: [],
            media: [],
          }
        : null,
    }));

  it('denies in mode all, records no resting licenses and no expiry', () => {
    const outcomes = outcomesOf(20);
    const plan = planClearance(
      outcomes,
      factsOf(outcomes, () => '2030-01-01T00:00:00.000Z'),
      'all',
      at,
      86_400,
    );
    expect(plan).toMatchObject({ decision: 'deny', subset: false, restingLicenseCount: 0, expiresAt: null });
    expect(plan.allowed.length + plan.denied.length).toBe(20);
  });

  it('in subset mode rests on the allowed assets only, and expires at the earliest of their terms', () => {
    const outcomes = outcomesOf(20);
    // Denied member 7 has the earliest term of all, but it is left out, so it does not count.
    const facts = factsOf(outcomes, (i) => (i === 7 ? '2026-06-01T01:00:00.000Z' : i === 12 ? '2026-06-01T06:00:00.000Z' : '2030-01-01T00:00:00.000Z'));
    const plan = planClearance(outcomes, facts, 'subset', at, 86_400);
    expect(plan).toMatchObject({ decision: 'allow', subset: true });
    expect(plan.restingLicenseCount).toBe(plan.allowed.length);
    expect(plan.expiresAt!.toISOString()).toBe('2026-06-01T06:00:00.000Z');
    expect(plan.decisionsDigest).toBe(outcomesDigest(outcomes));
  });

  it('an allow of only long licenses expires with the clearance time to live', () => {
    const outcomes = outcomesOf(20).filter((o) => o.decision === 'allow');
    const plan = planClearance(
      outcomes,
      factsOf(outcomes, () => '2030-01-01T00:00:00.000Z'),
      'all',
      at,
      3600,
    );
    expect(plan.expiresAt!.toISOString()).toBe('2026-06-01T01:00:00.000Z');
    expect(plan.record.groups).toEqual([{ decision: 'allow', reasons: [...permitted], positions: null }]);
  });
});
