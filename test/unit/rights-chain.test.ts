/** Derivative-rights chain evaluation (src/rights/chain.ts): pure, no database. */
import { describe, expect, it } from 'vitest';

import {
  type AssetNode,
  type ChainVerdict,
  DEFAULT_MAX_DEPTH,
  type EvaluatedOutput,
  evaluateRightsChain,
  type LicenseSnapshot,
  type OutputNode,
  type ProposedUse,
  type RuleName,
  type Verdict,
  worstVerdict,
} from '../../src/rights/chain.ts';

const NOW = '2026-06-01T00:00:00.000Z';
const ISSUED = '2026-02-01T00:00:00.000Z';
const USE: ProposedUse = { territory: 'US', media: 'streaming', commercial: true };

function license(over: Partial<LicenseSnapshot> = {}): LicenseSnapshot {
  return {
    id: 'lic_stairwell',
    version: 1,
    status: 'active',
    revokedAt: null,
    grants: { training: 'allowed', derivatives: 'allowed', commercial: 'allowed' },
    territories: ['US', 'CA'],
    media: ['theatrical', 'streaming'],
    term: { start: '2026-01-01T00:00:00Z', end: '2028-12-31T23:59:59Z' },
    approvals: [],
    ...over,
  };
}

function asset(over: Partial<AssetNode> = {}): AssetNode {
  const l = license();
  return {
    assetId: 'ast_stairwell',
    title: 'Stairwell, night, key frame 3',
    sha256: 'a'.repeat(64),
    role: 'training',
    licenseAtClearance: l,
    licenseNow: l,
    ...over,
  };
}

function output(over: Partial<OutputNode> = {}): OutputNode {
  return {
    outputId: 'out_1',
    checkpoint: { id: 'ckpt_1', status: 'active', taint: null },
    clearance: { id: 'clr_1', vendor: 'acme-vfx', issuedAt: ISSUED, standing: 'standing' },
    dataset: { id: 'ds_1', digest: 'd'.repeat(64) },
    assets: [asset()],
    ...over,
  };
}

/** Every rule in the tree that did not pass (output, asset and current-license checks). */
function failingRules(node: EvaluatedOutput, seen = new Set<EvaluatedOutput>()): RuleName[] {
  if (seen.has(node)) return [];
  seen.add(node);
  const bad = (cs: { rule: RuleName; result: string }[]) => cs.filter((c) => c.result === 'fail' || c.result === 'requiresApproval').map((c) => c.rule);
  return [...bad(node.checks), ...node.assets.flatMap((a) => [...bad(a.checks), ...bad(a.now.checks), ...(a.derivedFrom ? failingRules(a.derivedFrom, seen) : [])])];
}

const evalChain = (root: OutputNode, use: ProposedUse = USE): ChainVerdict => evaluateRightsChain(root, use, NOW);

/** The single asset's current license changed, as the service would supply it after an amendment. */
const withNow = (over: Partial<LicenseSnapshot>) => output({ assets: [asset({ licenseNow: license({ version: 2, ...over }) })] });

describe('evaluateRightsChain: one rule at a time', () => {
  it('baseline: everything licensed → cleared, no reasons', () => {
    const v = evalChain(output());
    expect(v.verdict).toBe('cleared');
    expect(v.reasons).toEqual([]);
    expect(v.notes).toEqual([]);
    expect(failingRules(v.root)).toEqual([]);
    expect(v.use).toEqual({ territory: 'US', media: 'streaming', date: NOW, commercial: true });
    expect(v.root.assets[0]?.now.checks.map((c) => [c.rule, c.result])).toEqual([
      ['license-present', 'pass'],
      ['license-standing', 'pass'],
      ['derivatives-grant', 'pass'],
      ['commercial-grant', 'pass'],
      ['territory', 'pass'],
      ['media', 'pass'],
      ['term', 'pass'],
    ]);
  });

  const approval = (over: Partial<LicenseSnapshot['approvals'][number]> = {}) => ({
    grant: 'derivatives' as const,
    vendor: 'acme-vfx',
    purpose: 'fine-tune',
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2027-01-01T00:00:00Z',
    ...over,
  });

  const cases: Array<[string, OutputNode, ProposedUse, Verdict, RuleName[]]> = [
    ['derivatives notAllowed', withNow({ grants: { training: 'allowed', derivatives: 'notAllowed', commercial: 'allowed' } }), USE, 'notCleared', ['derivatives-grant']],
    [
      'derivatives requiresApproval, none recorded',
      withNow({ grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' } }),
      USE,
      'requiresApproval',
      ['derivatives-grant'],
    ],
    [
      'derivatives requiresApproval, approved for the vendor over the date',
      withNow({ grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' }, approvals: [approval()] }),
      USE,
      'cleared',
      [],
    ],
    [
      'derivatives approval for another vendor does not count',
      withNow({ grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' }, approvals: [approval({ vendor: 'other-vfx' })] }),
      USE,
      'requiresApproval',
      ['derivatives-grant'],
    ],
    [
      'derivatives approval window over before the use date',
      withNow({ grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' }, approvals: [approval({ validUntil: '2026-05-01T00:00:00Z' })] }),
      USE,
      'requiresApproval',
      ['derivatives-grant'],
    ],
    [
      'a training approval does not cover derivatives',
      withNow({ grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' }, approvals: [approval({ grant: 'training' })] }),
      USE,
      'requiresApproval',
      ['derivatives-grant'],
    ],
    [
      'commercial notAllowed, commercial use',
      withNow({ grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' } }),
      USE,
      'notCleared',
      ['commercial-grant'],
    ],
    [
      'commercial notAllowed, non-commercial use',
      withNow({ grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' } }),
      { ...USE, commercial: false },
      'cleared',
      [],
    ],
    [
      'commercial requiresApproval',
      withNow({ grants: { training: 'allowed', derivatives: 'allowed', commercial: 'requiresApproval' } }),
      USE,
      'requiresApproval',
      ['commercial-grant'],
    ],
    ['territory not licensed', output(), { ...USE, territory: 'FR' }, 'notCleared', ['territory']],
    ['medium not licensed', output(), { ...USE, media: 'broadcast' }, 'notCleared', ['media']],
    ['use date after the term', output(), { ...USE, date: '2029-03-01T00:00:00Z' }, 'notCleared', ['term']],
    ['use date before the term', output(), { ...USE, date: '2025-12-01T00:00:00Z' }, 'notCleared', ['term']],
    ['license revoked', withNow({ status: 'revoked', revokedAt: '2026-05-01T00:00:00Z' }), USE, 'notCleared', ['license-standing']],
    ['revocation dated before now on a version still marked active', withNow({ revokedAt: '2026-05-01T00:00:00Z' }), USE, 'notCleared', ['license-standing']],
    ['revocation scheduled before the use date', withNow({ revokedAt: '2026-09-01T00:00:00Z' }), { ...USE, date: '2026-10-01T00:00:00Z' }, 'notCleared', ['license-standing']],
    ['license expired (status)', withNow({ status: 'expired' }), USE, 'notCleared', ['license-standing']],
    ['license superseded', withNow({ status: 'superseded' }), USE, 'notCleared', ['license-standing']],
    ['license pending', withNow({ status: 'pending' }), USE, 'notCleared', ['license-standing']],
    ['no current license', output({ assets: [asset({ licenseNow: null })] }), USE, 'notCleared', ['license-present']],
    ['training asset without a license at clearance', output({ assets: [asset({ licenseAtClearance: null })] }), USE, 'notCleared', ['licensed-at-clearance']],
    [
      'checkpoint tainted',
      output({ checkpoint: { id: 'ckpt_1', status: 'tainted', taint: { reason: 'license lic_stairwell revoked', effectiveAt: '2026-05-01T00:00:00Z' } } }),
      USE,
      'notCleared',
      ['checkpoint-status'],
    ],
    ['checkpoint retired', output({ checkpoint: { id: 'ckpt_1', status: 'retired' } }), USE, 'notCleared', ['checkpoint-status']],
    ['clearance revoked', output({ clearance: { id: 'clr_1', vendor: 'acme-vfx', issuedAt: ISSUED, standing: 'revoked' } }), USE, 'notCleared', ['clearance-standing']],
    ['clearance expired', output({ clearance: { id: 'clr_1', vendor: 'acme-vfx', issuedAt: ISSUED, standing: 'expired' } }), USE, 'notCleared', ['clearance-standing']],
    ['clearance denied', output({ clearance: { id: 'clr_1', vendor: 'acme-vfx', issuedAt: ISSUED, standing: 'denied' } }), USE, 'notCleared', ['clearance-standing']],
  ];

  it.each(cases)('%s', (_name, root, use, verdict, rules) => {
    const v = evalChain(root, use);
    expect(v.verdict).toBe(verdict);
    expect(failingRules(v.root)).toEqual(rules);
    expect(v.reasons).toHaveLength(rules.length);
    if (rules.length > 0) expect(v.reasons[0]).toContain('output out_1');
  });

  it('reasons name the asset and the license', () => {
    const v = evalChain(withNow({ grants: { training: 'allowed', derivatives: 'notAllowed', commercial: 'allowed' } }));
    expect(v.reasons).toEqual(['output out_1 → training asset "Stairwell, night, key frame 3" (ast_stairwell), license lic_stairwell v2 (current): derivatives: not allowed']);
  });

  it('a requiresApproval and a notCleared together → notCleared', () => {
    const root = output({
      assets: [
        asset({ licenseNow: license({ grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' } }) }),
        asset({ assetId: 'ast_hall', title: 'Hallway', licenseNow: license({ id: 'lic_hall', territories: ['CA'] }) }),
      ],
    });
    const v = evalChain(root);
    expect(v.verdict).toBe('notCleared');
    expect(v.root.assets.map((a) => a.verdict)).toEqual(['requiresApproval', 'notCleared']);
    expect(v.reasons).toHaveLength(2);
    expect(v.reasons[1]).toContain('lic_hall');
  });

  it('use.date defaults to now; territory and media are normalised; unset ones are not checked', () => {
    const v = evalChain(output(), { territory: ' us ', media: 'Streaming' });
    expect(v.verdict).toBe('cleared');
    expect(v.use).toEqual({ territory: 'US', media: 'streaming', date: NOW, commercial: false });
    const open = evalChain(output(), {});
    expect(open.verdict).toBe('cleared');
    const byRule = Object.fromEntries(open.root.assets[0]!.now.checks.map((c) => [c.rule, c.result]));
    expect(byRule).toMatchObject({ territory: 'notApplicable', media: 'notApplicable', 'commercial-grant': 'notApplicable' });
  });

  it('rejects an unreadable now or use date', () => {
    expect(() => evaluateRightsChain(output(), USE, 'yesterday')).toThrow(RangeError);
    expect(() => evaluateRightsChain(output(), { date: '31/12/2026' }, NOW)).toThrow(RangeError);
    expect(() => evaluateRightsChain(output(), USE, NOW, { maxDepth: -1 })).toThrow(RangeError);
  });

  it('worstVerdict orders notCleared > requiresApproval > cleared', () => {
    expect(worstVerdict([])).toBe('cleared');
    expect(worstVerdict(['cleared', 'requiresApproval'])).toBe('requiresApproval');
    expect(worstVerdict(['requiresApproval', 'notCleared', 'cleared'])).toBe('notCleared');
  });
});

describe('at clearance vs now', () => {
  it('after a revocation: the clearance-time view still passes, the current one fails', () => {
    const revoked = license({ status: 'revoked', revokedAt: '2026-04-15T00:00:00Z' });
    const v = evalChain(output({ assets: [asset({ licenseAtClearance: revoked, licenseNow: revoked })] }));
    expect(v.verdict).toBe('notCleared');
    const a = v.root.assets[0]!;
    expect(a.atClearance.verdict).toBe('cleared');
    expect(a.atClearance.standingAsOf).toBe(ISSUED);
    expect(a.atClearance.checks.find((c) => c.rule === 'license-standing')).toMatchObject({ result: 'pass' });
    expect(a.atClearance.checks.find((c) => c.rule === 'license-standing')?.detail).toContain('revoked later');
    expect(a.now.verdict).toBe('notCleared');
    expect(a.now.standingAsOf).toBe(NOW);
    expect(a.now.checks.find((c) => c.rule === 'license-standing')).toMatchObject({ result: 'fail' });
    expect(a.changedSinceClearance).toEqual(['license-standing']);
    expect(v.notes).toHaveLength(1);
    expect(v.notes[0]).toContain('license-standing pass');
    expect(v.notes[0]).toContain('license-standing fail');
    expect(v.reasons).toEqual([
      'output out_1 → training asset "Stairwell, night, key frame 3" (ast_stairwell), license lic_stairwell v1 (current): revoked (effective 2026-04-15T00:00:00Z)',
    ]);
  });

  it('a license already revoked when the clearance was issued fails both views', () => {
    const revoked = license({ status: 'revoked', revokedAt: '2026-01-15T00:00:00Z' });
    const a = evalChain(output({ assets: [asset({ licenseAtClearance: revoked, licenseNow: revoked })] })).root.assets[0]!;
    expect(a.atClearance.verdict).toBe('notCleared');
    expect(a.now.verdict).toBe('notCleared');
    expect(a.changedSinceClearance).toEqual([]);
  });

  it('an amendment that widened the grant: the current terms decide, the change is noted', () => {
    const v1 = license({ grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' } });
    const v2 = license({ version: 2, territories: ['WORLD'] });
    const v = evalChain(output({ assets: [asset({ licenseAtClearance: { ...v1, status: 'superseded' }, licenseNow: v2 })] }), {
      ...USE,
      territory: 'FR',
    });
    expect(v.verdict).toBe('cleared');
    const a = v.root.assets[0]!;
    expect(a.atClearance.licenseId).toBe('lic_stairwell');
    expect(a.atClearance.version).toBe(1);
    expect(a.atClearance.verdict).toBe('notCleared'); // FR not licensed by v1, derivatives needed approval
    expect(a.changedSinceClearance.sort()).toEqual(['derivatives-grant', 'territory']);
    expect(v.notes[0]).toContain('lic_stairwell v1');
    expect(v.notes[0]).toContain('lic_stairwell v2');
  });

  it('a reference asset has no clearance snapshot: its current version stands for both views', () => {
    const ref = asset({ assetId: 'ast_ref', title: 'Ref board', role: 'reference', licenseAtClearance: null, licenseNow: license({ id: 'lic_ref' }) });
    const v = evalChain(output({ assets: [asset(), ref] }));
    expect(v.verdict).toBe('cleared');
    const r = v.root.assets[1]!;
    expect(r.checks[0]).toMatchObject({ rule: 'licensed-at-clearance', result: 'notApplicable' });
    expect(r.atClearance.licenseId).toBe('lic_ref');
    expect(r.atClearance.view).toBe('atClearance');
    expect(r.changedSinceClearance).toEqual([]);
  });
});

describe('WORLD territory', () => {
  it.each<[string[], string, Verdict]>([
    [['WORLD'], 'FR', 'cleared'],
    [['WORLD'], 'jp', 'cleared'],
    [['WORLD'], 'WORLD', 'cleared'],
    [['US', 'CA'], 'WORLD', 'notCleared'], // a worldwide release needs a worldwide license
    [['US', 'CA'], 'CA', 'cleared'],
    [['US', 'CA'], 'MX', 'notCleared'],
  ])('licensed %j, proposed %s → %s', (territories, territory, verdict) => {
    const l = license({ territories });
    expect(evalChain(output({ assets: [asset({ licenseAtClearance: l, licenseNow: l })] }), { ...USE, territory }).verdict).toBe(verdict);
  });
});

describe('derivative chains', () => {
  /** out_A trained on S and T; X registered from out_A; out_B trained on Q and uses X as reference. */
  function twoGenerations(lS: LicenseSnapshot) {
    const outA = output({
      outputId: 'out_A',
      checkpoint: { id: 'ckpt_A', status: 'active' },
      clearance: { id: 'clr_A', vendor: 'acme-vfx', issuedAt: '2026-01-10T00:00:00Z', standing: 'standing' },
      dataset: { id: 'ds_A', digest: '1'.repeat(64) },
      assets: [
        asset({ assetId: 'ast_S', title: 'Stairwell sketch', licenseAtClearance: license({ id: 'lic_S' }), licenseNow: lS }),
        asset({ assetId: 'ast_T', title: 'Tenant portrait', licenseAtClearance: license({ id: 'lic_T' }), licenseNow: license({ id: 'lic_T' }) }),
      ],
    });
    const lX = license({ id: 'lic_X', territories: ['WORLD'] });
    const outB = output({
      outputId: 'out_B',
      checkpoint: { id: 'ckpt_B', status: 'active' },
      clearance: { id: 'clr_B', vendor: 'acme-vfx', issuedAt: ISSUED, standing: 'standing' },
      dataset: { id: 'ds_B', digest: '2'.repeat(64) },
      assets: [
        asset({ assetId: 'ast_Q', title: 'Quay study', licenseAtClearance: license({ id: 'lic_Q' }), licenseNow: license({ id: 'lic_Q' }) }),
        asset({ assetId: 'ast_X', title: 'Generated stairwell', role: 'reference', licenseAtClearance: null, licenseNow: lX, derivedFrom: outA }),
      ],
    });
    return outB;
  }

  it('all licensed → cleared, and the tree mirrors both generations', () => {
    const v = evalChain(twoGenerations(license({ id: 'lic_S' })));
    expect(v.verdict).toBe('cleared');
    const x = v.root.assets[1]!;
    expect(x.derivedFrom?.outputId).toBe('out_A');
    expect(x.derivedFrom?.depth).toBe(1);
    expect(x.derivedFrom?.assets.map((a) => a.assetId)).toEqual(['ast_S', 'ast_T']);
  });

  it("a revocation deep in out_A's dataset makes out_B notCleared, naming the deep license", () => {
    const v = evalChain(twoGenerations(license({ id: 'lic_S', version: 1, status: 'revoked', revokedAt: '2026-05-20T00:00:00Z' })));
    expect(v.verdict).toBe('notCleared');
    expect(v.reasons).toEqual([
      'output out_B → reference asset "Generated stairwell" (ast_X) → derived from output out_A → training asset "Stairwell sketch" (ast_S), license lic_S v1 (current): revoked (effective 2026-05-20T00:00:00Z)',
    ]);
    const x = v.root.assets[1]!;
    expect(v.root.assets[0]?.verdict).toBe('cleared'); // Q is fine
    expect(x.now.verdict).toBe('cleared'); // X's own license is fine
    expect(x.verdict).toBe('notCleared'); // …but what it was made from is not
    expect(x.derivedFrom?.verdict).toBe('notCleared');
    expect(x.derivedFrom?.assets[0]?.now.verdict).toBe('notCleared');
    expect(x.derivedFrom?.assets[1]?.verdict).toBe('cleared');
  });

  it('a tainted checkpoint one generation down also stops the chain', () => {
    const root = twoGenerations(license({ id: 'lic_S' }));
    root.assets[1]!.derivedFrom!.checkpoint = { id: 'ckpt_A', status: 'tainted', taint: { reason: 'lic_S revoked' } };
    const v = evalChain(root);
    expect(v.verdict).toBe('notCleared');
    expect(v.reasons[0]).toContain('derived from output out_A: checkpoint ckpt_A is tainted: lic_S revoked');
  });

  it('a withdrawn output one generation down stops the chain; only a withdrawn output carries the check', () => {
    const root = twoGenerations(license({ id: 'lic_S' }));
    root.assets[1]!.derivedFrom!.withdrawn = { at: '2026-03-01T00:00:00.000Z', reason: 'sign_self_check_failed: signed asset does not validate' };
    const v = evalChain(root);
    expect(v.verdict).toBe('notCleared');
    expect(v.reasons).toEqual([
      'output out_B → reference asset "Generated stairwell" (ast_X) → derived from output out_A: output out_A was withdrawn at 2026-03-01T00:00:00.000Z: sign_self_check_failed: signed asset does not validate',
    ]);
    expect(v.root.assets[1]!.derivedFrom!.checks.map((c) => c.rule)).toEqual(['output-withdrawn', 'checkpoint-status', 'clearance-standing']);
    expect(v.root.checks.map((c) => c.rule)).toEqual(['checkpoint-status', 'clearance-standing']);
    expect(evalChain(output({ withdrawn: null })).verdict).toBe('cleared');
  });

  it('an output reached twice (diamond) is evaluated once and shared', () => {
    const outA = twoGenerations(license({ id: 'lic_S', status: 'revoked', revokedAt: '2026-05-20T00:00:00Z' })).assets[1]!.derivedFrom!;
    const root = output({
      outputId: 'out_C',
      assets: [
        asset({ assetId: 'ast_X1', title: 'X1', role: 'reference', licenseAtClearance: null, derivedFrom: outA }),
        asset({ assetId: 'ast_X2', title: 'X2', role: 'reference', licenseAtClearance: null, derivedFrom: outA }),
      ],
    });
    const v = evalChain(root);
    expect(v.verdict).toBe('notCleared');
    expect(v.root.assets[0]?.derivedFrom).toBe(v.root.assets[1]?.derivedFrom);
    expect(v.root.assets.map((a) => a.verdict)).toEqual(['notCleared', 'notCleared']);
    expect(v.reasons.filter((r) => r.includes('lic_S'))).toHaveLength(1);
  });

  it('cycle: an output reachable from itself → stop, report, notCleared', () => {
    const outA = output({ outputId: 'out_A', assets: [asset()] });
    const outB = output({
      outputId: 'out_B',
      assets: [asset({ assetId: 'ast_fromA', title: 'From A', role: 'reference', licenseAtClearance: null, derivedFrom: outA })],
    });
    outA.assets.push(asset({ assetId: 'ast_fromB', title: 'From B', role: 'reference', licenseAtClearance: null, derivedFrom: outB }));

    const v = evalChain(outA);
    expect(v.verdict).toBe('notCleared');
    expect(v.reasons).toHaveLength(1);
    expect(v.reasons[0]).toContain('cycle: output out_A is reachable from itself (out_A → out_B → out_A)');
    const stub = v.root.assets[1]?.derivedFrom?.assets[0]?.derivedFrom;
    expect(stub).toMatchObject({ outputId: 'out_A', stopped: 'cycle', verdict: 'notCleared', assets: [] });
    expect(v.root.assets[0]?.verdict).toBe('cleared');
  });

  it('cycle by id (a different object with the same outputId) is caught too', () => {
    const again = output({ outputId: 'out_1' });
    const v = evalChain(output({ assets: [asset({ role: 'reference', licenseAtClearance: null, derivedFrom: again })] }));
    expect(v.verdict).toBe('notCleared');
    expect(v.root.assets[0]?.derivedFrom?.stopped).toBe('cycle');
  });

  /** out_0 ← ast_1 from out_1 ← … ← out_n (n generations below the root). */
  function chainOf(n: number): OutputNode {
    let node = output({ outputId: `out_${n}` });
    for (let i = n - 1; i >= 0; i--) {
      node = output({
        outputId: `out_${i}`,
        assets: [asset({ assetId: `ast_${i + 1}`, title: `gen ${i + 1}`, role: 'reference', licenseAtClearance: null, derivedFrom: node })],
      });
    }
    return node;
  }

  it(`depth limit: ${DEFAULT_MAX_DEPTH} generations are followed, one more is refused`, () => {
    expect(evalChain(chainOf(DEFAULT_MAX_DEPTH)).verdict).toBe('cleared');
    const v = evalChain(chainOf(DEFAULT_MAX_DEPTH + 1));
    expect(v.verdict).toBe('notCleared');
    expect(v.reasons).toHaveLength(1);
    expect(v.reasons[0]).toContain(`output out_${DEFAULT_MAX_DEPTH + 1}: derivation chain deeper than ${DEFAULT_MAX_DEPTH} generations`);
    let node: EvaluatedOutput | null | undefined = v.root;
    while (node && node.stopped === null) node = node.assets[0]?.derivedFrom;
    expect(node).toMatchObject({ stopped: 'depth-limit', depth: DEFAULT_MAX_DEPTH + 1, verdict: 'notCleared' });
  });

  it('depth limit is configurable; a long chain does not overflow', () => {
    expect(evaluateRightsChain(chainOf(3), USE, NOW, { maxDepth: 2 }).verdict).toBe('notCleared');
    expect(evaluateRightsChain(chainOf(3), USE, NOW, { maxDepth: 3 }).verdict).toBe('cleared');
    const v = evalChain(chainOf(5000));
    expect(v.verdict).toBe('notCleared');
    expect(v.maxDepth).toBe(DEFAULT_MAX_DEPTH);
  });
});
