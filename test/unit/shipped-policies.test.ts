import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AssetDecision, AssetFacts, GateRequest, LicenseFacts, PolicySet } from '../../src/gate/policy-engine.ts';
import { baseModelFamily, stricterTrainingMining } from '../../src/gate/policy-input.ts';
import { loadPolicySet } from '../../src/gate/policy-loader.ts';

const POLICY_DIR = fileURLToPath(new URL('../../policies', import.meta.url));

let shipped: PolicySet;
beforeAll(async () => {
  shipped = await loadPolicySet(POLICY_DIR);
});

const TERM_START = '2025-01-01T00:00:00.000Z';
const TERM_END = '2027-01-01T00:00:00.000Z';
const AT = '2026-03-15T12:00:00.000Z';

function license(over: Partial<LicenseFacts> = {}): LicenseFacts {
  return {
    id: 'lic-1',
    version: 3,
    revoked: false,
    superseded: false,
    licensee: 'acme-vfx',
    vendors: ['pixel-forge'],
    grants: { training: 'allowed', derivatives: 'notAllowed', commercial: 'allowed' },
    termStart: TERM_START,
    termEnd: TERM_END,
    territories: ['US', 'GB'],
    media: ['film', 'streaming'],
    ...over,
  };
}

function asset(over: Partial<AssetFacts> = {}): AssetFacts {
  return {
    assetId: 'asset-1',
    sha256: 'a'.repeat(64),
    production: 'nightfall',
    license: license(),
    approvals: [],
    ...over,
  };
}

function gate(over: Partial<GateRequest> = {}): GateRequest {
  return { vendor: 'acme-vfx', purpose: 'fine-tune', baseModel: 'veo-3.0-generate-001', at: AT, ...over };
}

function decide(facts: AssetFacts, req: GateRequest = gate(), set: PolicySet = shipped): AssetDecision {
  const [d] = set.evaluate(req, [facts]);
  if (!d) throw new Error('no decision');
  return d;
}

const ids = (d: AssetDecision): string[] => d.reasons.map((r) => r.policyId);

function expectAllow(d: AssetDecision): void {
  expect(d).toMatchObject({ decision: 'allow' });
  expect(ids(d)).toEqual(['training-permitted']);
}

function expectDeny(d: AssetDecision, ...policyIds: string[]): void {
  expect(d.decision).toBe('deny');
  expect(ids(d)).toEqual(policyIds);
}

const requiresApproval = (): LicenseFacts => license({ grants: { training: 'requiresApproval', derivatives: 'notAllowed', commercial: 'allowed' } });

const approval = (over: Partial<AssetFacts['approvals'][number]> = {}): AssetFacts['approvals'][number] => ({
  vendor: 'acme-vfx',
  purpose: 'fine-tune',
  validFrom: '2026-03-01T00:00:00Z',
  validUntil: '2026-04-01T00:00:00Z',
  ...over,
});

/** One minimal violation per shipped forbid: only that forbid may fire. */
const violations: { policyId: string; facts: AssetFacts; request?: GateRequest }[] = [
  { policyId: 'license-missing', facts: asset({ license: undefined }) },
  { policyId: 'license-revoked', facts: asset({ license: license({ revoked: true }) }) },
  { policyId: 'license-superseded', facts: asset({ license: license({ superseded: true }) }) },
  { policyId: 'license-outside-term', facts: asset(), request: gate({ at: '2027-06-01T00:00:00Z' }) },
  { policyId: 'vendor-not-licensed', facts: asset(), request: gate({ vendor: 'shady-vendor' }) },
  {
    policyId: 'training-not-allowed',
    facts: asset({
      license: license({ grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } }),
    }),
  },
  { policyId: 'training-approval-missing', facts: asset({ license: requiresApproval() }) },
  {
    policyId: 'base-model-not-licensed',
    facts: asset({ license: license({ baseModelFamilies: ['imagen'] }) }),
  },
  { policyId: 'c2pa-training-mining-not-allowed', facts: asset({ c2paTrainingMining: 'notAllowed' }) },
  { policyId: 'cawg-training-mining-not-allowed', facts: asset({ cawgTrainingMining: 'notAllowed' }) },
  { policyId: 'embedded-manifest-unreadable', facts: asset({ embeddedManifest: 'damaged' }) },
  { policyId: 'derivatives-not-allowed', facts: asset(), request: gate({ action: 'derive' }) },
  {
    policyId: 'derivatives-approval-missing',
    facts: asset({ license: license({ grants: { training: 'notAllowed', derivatives: 'requiresApproval', commercial: 'allowed' } }) }),
    request: gate({ action: 'derive' }),
  },
  // The proposed use's own terms (use.cedar): only the availability search states them.
  { policyId: 'territory-not-licensed', facts: asset(), request: gate({ territory: 'FR' }) },
  { policyId: 'media-not-licensed', facts: asset(), request: gate({ media: 'broadcast' }) },
  {
    policyId: 'commercial-not-allowed',
    facts: asset({ license: license({ grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'notAllowed' } }) }),
    request: gate({ action: 'derive', commercial: true }),
  },
  {
    policyId: 'commercial-approval-missing',
    facts: asset({ license: license({ grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'requiresApproval' } }) }),
    request: gate({ action: 'derive', commercial: true }),
  },
];

describe('shipped policy set', () => {
  it('loads, validates, and names every policy with a reason', () => {
    expect(shipped.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(shipped.policies.map((p) => [p.file, p.id, p.effect])).toEqual([
      ['c2pa.cedar', 'embedded-manifest-unreadable', 'forbid'],
      ['c2pa.cedar', 'c2pa-training-mining-not-allowed', 'forbid'],
      ['c2pa.cedar', 'cawg-training-mining-not-allowed', 'forbid'],
      ['derive.cedar', 'derivative-use-permitted', 'permit'],
      ['derive.cedar', 'derivatives-not-allowed', 'forbid'],
      ['derive.cedar', 'derivatives-approval-missing', 'forbid'],
      ['license.cedar', 'license-missing', 'forbid'],
      ['license.cedar', 'license-revoked', 'forbid'],
      ['license.cedar', 'license-superseded', 'forbid'],
      ['license.cedar', 'license-outside-term', 'forbid'],
      ['license.cedar', 'vendor-not-licensed', 'forbid'],
      ['training.cedar', 'training-permitted', 'permit'],
      ['training.cedar', 'training-not-allowed', 'forbid'],
      ['training.cedar', 'training-approval-missing', 'forbid'],
      ['training.cedar', 'base-model-not-licensed', 'forbid'],
      ['use.cedar', 'territory-not-licensed', 'forbid'],
      ['use.cedar', 'media-not-licensed', 'forbid'],
      ['use.cedar', 'commercial-not-allowed', 'forbid'],
      ['use.cedar', 'commercial-approval-missing', 'forbid'],
    ]);
    for (const p of shipped.policies) expect(p.reason.length).toBeGreaterThan(10);
  });

  it('every shipped forbid has a violation test below', () => {
    const forbids = shipped.policies.filter((p) => p.effect === 'forbid').map((p) => p.id);
    expect(violations.map((v) => v.policyId).sort()).toEqual([...forbids].sort());
  });

  it('allows the fully valid fact set, naming the permit and its reason', () => {
    const d = decide(asset());
    expectAllow(d);
    expect(d.assetId).toBe('asset-1');
    expect(d.reasons[0]?.reason).toBe(shipped.policies.find((p) => p.id === 'training-permitted')?.reason);
  });

  for (const v of violations) {
    it(`${v.policyId} fires alone for a minimal violation`, () => {
      const d = decide(v.facts, v.request);
      expectDeny(d, v.policyId);
      expect(d.reasons[0]?.reason).toBe(shipped.policies.find((p) => p.id === v.policyId)?.reason);
    });
  }

  it('one batch (decisions shared between equal facts) decides every asset as it is decided alone', () => {
    // Each violation and the valid fact set, crossed with every training-mining value on both sources, other
    // license rows with the same terms, and another production: the facts the engine folds together.
    const minings = [undefined, 'allowed', 'constrained', 'notAllowed'] as const;
    const bases = [asset(), ...violations.filter((v) => v.request === undefined).map((v) => v.facts)];
    const batch: AssetFacts[] = [];
    bases.forEach((base, b) => {
      for (const c2pa of minings) {
        for (const cawg of minings) {
          const n = batch.length;
          batch.push({
            ...base,
            assetId: `asset-${n}`,
            production: n % 3 === 0 ? 'other-film' : base.production,
            c2paTrainingMining: base.c2paTrainingMining ?? c2pa,
            cawgTrainingMining: base.cawgTrainingMining ?? cawg,
            license: base.license ? { ...base.license, id: `lic-${b}-${n}`, version: 1 + (n % 2) } : base.license,
          });
        }
      }
    });
    const together = shipped.evaluate(gate(), batch);
    expect(together.map((d) => [d.assetId, d.decision, ids(d)])).toEqual(
      batch.map((a) => {
        const d = decide(a);
        return [a.assetId, d.decision, ids(d)];
      }),
    );
    expect(new Set(together.map((d) => d.decision))).toEqual(new Set(['allow', 'deny']));
  });

  it('names every forbid that applies, in policy order', () => {
    const d = decide(
      asset({
        cawgTrainingMining: 'notAllowed',
        license: license({
          revoked: true,
          baseModelFamilies: ['imagen'],
          grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' },
        }),
      }),
      gate({ vendor: 'shady-vendor' }),
    );
    expectDeny(d, 'cawg-training-mining-not-allowed', 'license-revoked', 'vendor-not-licensed', 'training-not-allowed', 'base-model-not-licensed');
  });

  it('the permit alone refuses every violation (removing a forbid cannot open the gate)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'clearframe-permit-only-'));
    try {
      await copyFile(path.join(POLICY_DIR, 'schema.cedarschema'), path.join(dir, 'schema.cedarschema'));
      const training = await readFile(path.join(POLICY_DIR, 'training.cedar'), 'utf8');
      const permitOnly = training.slice(0, training.indexOf('@id("training-not-allowed")'));
      await writeFile(path.join(dir, 'training.cedar'), permitOnly);
      const derive = await readFile(path.join(POLICY_DIR, 'derive.cedar'), 'utf8');
      await writeFile(path.join(dir, 'derive.cedar'), derive.slice(0, derive.indexOf('@id("derivatives-not-allowed")')));
      const set = await loadPolicySet(dir);
      expect(set.policies.map((p) => p.id)).toEqual(['derivative-use-permitted', 'training-permitted']);
      expectAllow(decide(asset(), gate(), set));
      const derivable = asset({ license: license({ grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } }) });
      expect(ids(decide(derivable, gate({ action: 'derive' }), set))).toEqual(['derivative-use-permitted']);
      for (const v of violations) expectDeny(decide(v.facts, v.request, set), 'default-deny');
      // the embedded checks hold for derivative use too, by the permit alone
      for (const over of [{ embeddedManifest: 'invalid' }, { c2paTrainingMining: 'notAllowed' }, { cawgTrainingMining: 'notAllowed' }] as const) {
        expectDeny(decide({ ...derivable, ...over }, gate({ action: 'derive' }), set), 'default-deny');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an asset without license facts names only the missing license, whatever else it carries', () => {
    expectDeny(decide(asset({ license: null, approvals: [approval()] })), 'license-missing');
  });
});

describe('an embedded manifest that cannot be validated fails closed', () => {
  for (const state of ['invalid', 'damaged', 'unreadable'] as const) {
    it(`${state}: denied for training and derivative use until legal overrides`, () => {
      expectDeny(decide(asset({ embeddedManifest: state })), 'embedded-manifest-unreadable');
      expectAllow(decide(asset({ embeddedManifest: state, embeddedOverride: true })));
      const derivable = asset({ embeddedManifest: state, license: license({ grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } }) });
      expectDeny(decide(derivable, gate({ action: 'derive' })), 'embedded-manifest-unreadable');
      expect(ids(decide({ ...derivable, embeddedOverride: true }, gate({ action: 'derive' })))).toEqual(['derivative-use-permitted']);
    });
  }
  it('none and valid do not refuse; an override also sets aside the terms read from that manifest', () => {
    expectAllow(decide(asset({ embeddedManifest: 'none' })));
    expectAllow(decide(asset({ embeddedManifest: 'valid' })));
    expectDeny(decide(asset({ embeddedManifest: 'valid', c2paTrainingMining: 'notAllowed' })), 'c2pa-training-mining-not-allowed');
    expectDeny(decide(asset({ embeddedManifest: 'invalid', c2paTrainingMining: 'notAllowed' })), 'embedded-manifest-unreadable', 'c2pa-training-mining-not-allowed');
    expectAllow(decide(asset({ embeddedManifest: 'invalid', c2paTrainingMining: 'notAllowed', embeddedOverride: true })));
  });
  it('an unknown state denies (invalid facts)', () => {
    expectDeny(decide(asset({ embeddedManifest: 'fine' as never })), 'invalid-facts');
  });
});

describe("decisions remembered between evaluations (an output's few sources)", () => {
  it('hold only while now stays strictly inside the same term instants', () => {
    const derive = (at: string, facts = asset({ license: license({ grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } }) })) =>
      ids(decide(facts, gate({ action: 'derive', at })));
    expect(derive('2026-03-15T12:00:00Z')).toEqual(['derivative-use-permitted']);
    expect(derive('2026-12-31T23:59:59.999Z')).toEqual(['derivative-use-permitted']);
    expect(derive(TERM_END)).toEqual(['license-outside-term']);
    expect(derive('2026-03-15T12:00:00Z')).toEqual(['derivative-use-permitted']);
    expect(derive('2024-12-31T23:59:59.999Z')).toEqual(['license-outside-term']);
    expect(derive(TERM_START)).toEqual(['derivative-use-permitted']);
    // other facts, vendor or approval presence are other decisions
    expect(ids(decide(asset(), gate({ action: 'derive' })))).toEqual(['derivatives-not-allowed']);
    expect(
      ids(
        decide(
          asset({ license: license({ grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } }) }),
          gate({ action: 'derive', vendor: 'shady-vendor' }),
        ),
      ),
    ).toEqual(['vendor-not-licensed']);
    const needs = asset({ license: license({ grants: { training: 'notAllowed', derivatives: 'requiresApproval', commercial: 'allowed' } }), approvals: [approval()] });
    expect(ids(decide(needs, gate({ action: 'derive', at: '2026-03-15T12:00:00Z' })))).toEqual(['derivative-use-permitted']);
    expect(ids(decide(needs, gate({ action: 'derive', at: '2026-04-15T12:00:00Z' })))).toEqual(['derivatives-approval-missing']);
  });

  it('are not remembered by a set whose policies use datetime functions', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'clearframe-dated-'));
    try {
      for (const f of ['schema.cedarschema', 'c2pa.cedar', 'derive.cedar', 'license.cedar', 'training.cedar']) await copyFile(path.join(POLICY_DIR, f), path.join(dir, f));
      await writeFile(
        path.join(dir, 'season.cedar'),
        '@id("season-over")\n@reason("The season is over.")\nforbid (principal, action, resource)\nwhen { context.now >= datetime("2026-04-01T00:00:00Z") };\n',
      );
      const set = await loadPolicySet(dir);
      expectAllow(decide(asset(), gate({ at: '2026-03-31T23:59:59Z' }), set));
      expectDeny(decide(asset(), gate({ at: '2026-04-01T00:00:01Z' }), set), 'season-over');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('vendor', () => {
  it('the licensee may train', () => expectAllow(decide(asset(), gate({ vendor: 'acme-vfx' }))));
  it('a vendor named on the license may train', () => expectAllow(decide(asset(), gate({ vendor: 'pixel-forge' }))));
  it('vendor ids match exactly', () => {
    expectDeny(decide(asset(), gate({ vendor: 'ACME-VFX' })), 'vendor-not-licensed');
  });
});

describe('base model families', () => {
  it('no list: any model family', () => {
    expectAllow(decide(asset(), gate({ baseModel: 'imagen-4.0-generate-001' })));
  });
  it('listed family is allowed (case-insensitive, from full model path)', () => {
    const facts = asset({ license: license({ baseModelFamilies: ['Veo'] }) });
    expectAllow(decide(facts, gate({ baseModel: 'publishers/google/models/veo-3.0-generate-001' })));
  });
  it('unlisted family is refused, empty list refuses all', () => {
    const imagenOnly = asset({ license: license({ baseModelFamilies: ['imagen'] }) });
    expectAllow(decide(imagenOnly, gate({ baseModel: 'imagen-4.0-generate-001' })));
    expectDeny(decide(imagenOnly), 'base-model-not-licensed');
    expectDeny(decide(asset({ license: license({ baseModelFamilies: [] }) })), 'base-model-not-licensed');
  });
  it('family is the first dash-separated part', () => {
    expect(baseModelFamily('veo-3.0-generate-001')).toBe('veo');
    expect(baseModelFamily('imagen-4.0-generate-001')).toBe('imagen');
    expect(baseModelFamily('projects/p/locations/l/publishers/google/models/Veo-2.0')).toBe('veo');
  });
});

describe('embedded training-mining assertions', () => {
  it('allowed, constrained or absent do not refuse', () => {
    for (const v of ['allowed', 'constrained', undefined] as const) {
      expectAllow(decide(asset({ c2paTrainingMining: v, cawgTrainingMining: v })));
    }
  });
  it('C2PA notAllowed refuses even if CAWG allows', () => {
    expectDeny(decide(asset({ c2paTrainingMining: 'notAllowed', cawgTrainingMining: 'allowed' })), 'c2pa-training-mining-not-allowed');
  });
  it('CAWG notAllowed refuses even if C2PA allows', () => {
    expectDeny(decide(asset({ c2paTrainingMining: 'allowed', cawgTrainingMining: 'notAllowed' })), 'cawg-training-mining-not-allowed');
  });
  it('both sources notAllowed name both', () => {
    expectDeny(decide(asset({ c2paTrainingMining: 'notAllowed', cawgTrainingMining: 'notAllowed' })), 'c2pa-training-mining-not-allowed', 'cawg-training-mining-not-allowed');
  });
  it('a caller-merged value (stricter of both) in c2paTrainingMining refuses', () => {
    const merged = stricterTrainingMining('allowed', 'notAllowed');
    expect(merged).toBe('notAllowed');
    expect(stricterTrainingMining('constrained', 'allowed')).toBe('constrained');
    expect(stricterTrainingMining(undefined, 'allowed')).toBe('allowed');
    expectDeny(decide(asset({ c2paTrainingMining: merged })), 'c2pa-training-mining-not-allowed');
  });
});

describe('license term [termStart, termEnd)', () => {
  const at = (t: string): AssetDecision => decide(asset(), gate({ at: t }));
  it('starts at termStart (inclusive)', () => {
    expectAllow(at(TERM_START));
    expectDeny(at('2024-12-31T23:59:59.999Z'), 'license-outside-term');
  });
  it('ends at termEnd (exclusive)', () => {
    expectAllow(at('2026-12-31T23:59:59.999Z'));
    expectDeny(at(TERM_END), 'license-outside-term');
    expectDeny(at('2030-01-01T00:00:00Z'), 'license-outside-term');
  });
  it('compares instants, not strings (time zone offsets)', () => {
    expectDeny(at('2026-12-31T19:00:00-05:00'), 'license-outside-term'); // == termEnd
    expectAllow(at('2026-12-31T18:59:59.999-05:00'));
    expectAllow(at('2025-01-01T01:00:00+01:00')); // == termStart
  });
  it('sub-millisecond digits can only narrow the term', () => {
    const facts = asset({
      license: license({ termStart: '2025-01-01T00:00:00.000001Z', termEnd: '2027-01-01T00:00:00.000999Z' }),
    });
    expectDeny(decide(facts, gate({ at: '2025-01-01T00:00:00.000Z' })), 'license-outside-term');
    expectAllow(decide(facts, gate({ at: '2025-01-01T00:00:00.001Z' })));
    expectDeny(decide(facts, gate({ at: '2027-01-01T00:00:00.000Z' })), 'license-outside-term');
  });
});

describe('approval window [validFrom, validUntil) for requiresApproval', () => {
  const withApprovals = (...approvals: AssetFacts['approvals']): AssetFacts => asset({ license: requiresApproval(), approvals });
  const at = (t: string, ...approvals: AssetFacts['approvals']): AssetDecision => decide(withApprovals(...approvals), gate({ at: t }));

  it('a covering approval allows', () => expectAllow(at(AT, approval())));
  it('starts at validFrom (inclusive)', () => {
    expectAllow(at('2026-03-01T00:00:00.000Z', approval()));
    expectDeny(at('2026-02-28T23:59:59.999Z', approval()), 'training-approval-missing');
  });
  it('ends at validUntil (exclusive)', () => {
    expectAllow(at('2026-03-31T23:59:59.999Z', approval()));
    expectDeny(at('2026-04-01T00:00:00.000Z', approval()), 'training-approval-missing');
  });
  it('must name the requesting vendor', () => {
    expectDeny(at(AT, approval({ vendor: 'pixel-forge' })), 'training-approval-missing');
    expectAllow(decide(withApprovals(approval({ vendor: 'pixel-forge' })), gate({ vendor: 'pixel-forge' })));
  });
  it('must name the purpose', () => {
    expectDeny(at(AT, approval({ purpose: 'evaluation' })), 'training-approval-missing');
    expectAllow(decide(withApprovals(approval({ purpose: 'evaluation' })), gate({ purpose: 'evaluation' })));
  });
  it('any one covering approval among several is enough', () => {
    expectAllow(
      at(
        AT,
        approval({ vendor: 'pixel-forge' }),
        approval({ validUntil: '2026-03-02T00:00:00Z' }),
        approval({ validFrom: '2026-03-10T00:00:00Z', validUntil: '2026-03-20T00:00:00Z' }),
      ),
    );
  });
  it('an unparsable approval covers nothing', () => {
    expectDeny(at(AT, approval({ validUntil: 'next spring' })), 'training-approval-missing');
  });
  it('approvals do not matter when training is allowed or not allowed outright', () => {
    expectAllow(decide(asset({ approvals: [] })));
    const notAllowed = license({ grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } });
    expectDeny(decide(asset({ license: notAllowed, approvals: [approval()] })), 'training-not-allowed');
  });
  it('an approval does not cure other violations', () => {
    const facts = asset({ license: { ...requiresApproval(), revoked: true }, approvals: [approval()] });
    expectDeny(decide(facts), 'license-revoked');
  });
});

describe('malformed facts deny', () => {
  it('a request time without zone denies every asset', () => {
    const ds = shipped.evaluate(gate({ at: '2026-03-15T12:00:00' }), [asset(), asset({ assetId: 'asset-2' })]);
    expect(ds.map((d) => [d.assetId, d.decision, ids(d)])).toEqual([
      ['asset-1', 'deny', ['invalid-facts']],
      ['asset-2', 'deny', ['invalid-facts']],
    ]);
    expect(ds[0]?.reasons[0]?.reason).toMatch(/request\.at/);
  });
  it('an unparsable license term denies that asset only', () => {
    const ds = shipped.evaluate(gate(), [asset({ license: license({ termEnd: '2027-02-30T00:00:00Z' }) }), asset({ assetId: 'asset-2' })]);
    expect(ds.map((d) => [d.assetId, d.decision, ids(d)])).toEqual([
      ['asset-1', 'deny', ['invalid-facts']],
      ['asset-2', 'allow', ['training-permitted']],
    ]);
    expect(ds[0]?.reasons[0]?.reason).toMatch(/license\.termEnd/);
  });
  it('unknown enumerated values deny', () => {
    const bogus = { training: 'maybe', derivatives: 'allowed', commercial: 'allowed' } as unknown;
    expectDeny(decide(asset({ license: license({ grants: bogus as LicenseFacts['grants'] }) })), 'invalid-facts');
    expectDeny(decide(asset(), gate({ purpose: 'marketing' as GateRequest['purpose'] })), 'invalid-facts');
  });
});
