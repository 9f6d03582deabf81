import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/audit/canonical-json.ts';
import { type AssetOutcome, expandGroups, groupOutcomes, outcomesDigest } from '../../src/gate/service.ts';

const outcomes: AssetOutcome[] = [
  { assetId: 'ast_1', decision: 'allow', reasons: [{ policyId: 'training-permitted', reason: 'The current license allows it.' }], licenseId: 'lic_a' },
  {
    assetId: 'ast_"2"',
    decision: 'deny',
    reasons: [
      { policyId: 'training-not-allowed', reason: 'Nope — "quoted" \\ back\nslash, 階段, \u0007' },
      { policyId: 'x', reason: '' },
    ],
    licenseId: 'lic_b',
  },
  { assetId: 'ast_3', decision: 'deny', reasons: [{ policyId: 'license-missing', reason: 'The asset has no current license.' }], licenseId: null },
  { assetId: 'ast_4', decision: 'allow', reasons: [{ policyId: 'training-permitted', reason: 'The current license allows it.' }], licenseId: 'lic_c' },
];

describe('clearance decision records', () => {
  it('digests outcomes exactly as RFC 8785 canonical JSON would', () => {
    const expected = createHash('sha256').update(canonicalize(outcomes)).digest('hex');
    expect(outcomesDigest(outcomes)).toBe(expected);
    expect(outcomesDigest([])).toBe(createHash('sha256').update('[]').digest('hex'));
  });

  it('digests many outcomes, long and non-ASCII strings, exactly as canonical JSON would', () => {
    const long = [{ policyId: 'p-long', reason: `${'階段の夜景 — "quoted" \\ '.repeat(3_000)}\u2028end` }];
    const short = [{ policyId: 'training-permitted', reason: 'The current license allows it.' }];
    const many: AssetOutcome[] = Array.from({ length: 20_000 }, (_, i) => ({
      assetId: i % 97 === 0 ? `ast_${i}_階段_"${'x'.repeat(i % 7_000)}"` : `ast_${i}`,
      decision: i % 5 === 0 ? 'deny' : 'allow',
      reasons: i % 1_000 === 1 ? long : i % 5 === 0 ? [{ policyId: `p${i % 3}`, reason: `r\n${i % 3}` }] : short,
      licenseId: i % 11 === 0 ? null : `lic_${i}`,
    }));
    expect(outcomesDigest(many)).toBe(createHash('sha256').update(canonicalize(many)).digest('hex'));
    expect(outcomesDigest(many.slice(0, 1))).toBe(
      createHash('sha256')
        .update(canonicalize(many.slice(0, 1)))
        .digest('hex'),
    );
  });

  it('groups by outcome and expands back to every asset with its own license', () => {
    const groups = groupOutcomes(outcomes);
    expect(groups).toHaveLength(3);
    expect(groups[0]).toMatchObject({ decision: 'allow', assetIds: ['ast_1', 'ast_4'], licenseIds: ['lic_a', 'lic_c'] });
    expect(expandGroups(groups).sort((a, b) => a.assetId.localeCompare(b.assetId))).toEqual([...outcomes].sort((a, b) => a.assetId.localeCompare(b.assetId)));
  });
});
