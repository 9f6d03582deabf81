import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { afterAll, describe, expect, it } from 'vitest';
import { type AssetDecision, type AssetFacts, type EvaluationStats, type GateRequest, type LicenseFacts, miningTests, PolicySetError } from '../../src/gate/policy-engine.ts';
import { buildCedarRequest, createRequestBuilder, PolicyInputError, parseInstant } from '../../src/gate/policy-input.ts';
import { loadPolicySet } from '../../src/gate/policy-loader.ts';

const SHIPPED = fileURLToPath(new URL('../../policies', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const tmpDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A copy of the shipped policy directory that a test may edit. */
async function shippedCopy(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'clearframe-policies-'));
  tmpDirs.push(dir);
  await cp(SHIPPED, dir, { recursive: true });
  return dir;
}

async function loadError(dir: string): Promise<PolicySetError> {
  const err: unknown = await loadPolicySet(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PolicySetError);
  return err as PolicySetError;
}

function license(over: Partial<LicenseFacts> = {}): LicenseFacts {
  return {
    id: 'lic-1',
    version: 1,
    revoked: false,
    superseded: false,
    licensee: 'acme-vfx',
    vendors: [],
    grants: { training: 'allowed', derivatives: 'allowed', commercial: 'allowed' },
    termStart: '2025-01-01T00:00:00Z',
    termEnd: '2027-01-01T00:00:00Z',
    territories: ['US'],
    media: ['film'],
    ...over,
  };
}

const asset = (assetId: string, over: Partial<AssetFacts> = {}): AssetFacts => ({
  assetId,
  sha256: assetId.padEnd(64, '0'),
  production: 'nightfall',
  license: license(),
  approvals: [],
  ...over,
});

const REQUEST: GateRequest = {
  vendor: 'acme-vfx',
  purpose: 'fine-tune',
  baseModel: 'veo-3.0-generate-001',
  at: '2026-03-15T12:00:00Z',
};

const summary = (d: AssetDecision | undefined): [string, string[]] | undefined => d && [d.decision, d.reasons.map((r) => r.policyId)];

describe('loadPolicySet: rejected policy sets', () => {
  it('syntax error names the file, line:column and Cedar message', async () => {
    const err = await loadError(fixture('policies-syntax-error'));
    // Column counts characters: the line holds a non-ASCII "é" before the error (Cedar reports bytes).
    expect(err.message).toContain('broken.cedar:6:63: ');
    expect(err.message).toMatch(/unexpected token `\}`/);
    expect(err.issues).toEqual([expect.objectContaining({ file: 'broken.cedar', line: 6, column: 63 })]);
  });

  it('schema violations name the file, position, policy @id and Cedar message', async () => {
    const err = await loadError(fixture('policies-schema-violation'));
    expect(err.issues).toHaveLength(2);
    expect(err.message).toContain('typo.cedar:6:31: ');
    expect(err.message).toMatch(/@id\("misspelled-attribute"\).*license\.grant.*not found/);
    expect(err.message).toContain('typo.cedar:11:66: ');
    expect(err.message).toMatch(/@id\("misspelled-grant"\).*"alowed"/);
  });

  it('a policy without @reason or @id is rejected', async () => {
    const err = await loadError(fixture('policies-missing-annotations'));
    expect(err.issues).toEqual([
      { file: 'annotations.cedar', line: 7, column: 1, message: 'policy "no-reason" has no @reason("...") annotation' },
      { file: 'annotations.cedar', line: 11, column: 1, message: 'policy has no @id("...") annotation' },
    ]);
  });

  it('a duplicate @id across files is rejected, naming both places', async () => {
    const err = await loadError(fixture('policies-duplicate-id'));
    expect(err.message).toContain('second.cedar:2:1: duplicate @id("same-id"), first used at first.cedar:1:1');
  });

  it('an unguarded optional attribute is rejected at load (strict validation)', async () => {
    const dir = await shippedCopy();
    await writeFile(path.join(dir, 'zz-unguarded.cedar'), '@id("unguarded")\n@reason("r")\nforbid (principal, action, resource)\nwhen { context.license.revoked };\n');
    const err = await loadError(dir);
    expect(err.message).toMatch(/zz-unguarded\.cedar:4:8: .*optional attribute `license`/);
  });

  it('a policy that can never apply is rejected (validator warnings are errors)', async () => {
    const dir = await shippedCopy();
    await writeFile(path.join(dir, 'zz-impossible.cedar'), '@id("impossible")\n@reason("r")\nforbid (principal, action, resource)\nwhen { false };\n');
    const err = await loadError(dir);
    expect(err.message).toMatch(/zz-impossible\.cedar:1:1: .*impossible/);
  });

  it('engine-reserved ids and templates are rejected', async () => {
    const dir = await shippedCopy();
    await writeFile(
      path.join(dir, 'zz-bad.cedar'),
      [
        '@id("default-deny")',
        '@reason("r")',
        'forbid (principal, action, resource);',
        '',
        '@id("template")',
        '@reason("r")',
        'permit (principal == ?principal, action, resource);',
        '',
      ].join('\n'),
    );
    const err = await loadError(dir);
    expect(err.message).toContain('zz-bad.cedar:5:1: policy templates');
    const forbidWithId = (id: string): string => `@id("${id}")\n@reason("r")\nforbid (principal, action, resource);\n`;
    await writeFile(path.join(dir, 'zz-bad.cedar'), forbidWithId('default-deny'));
    expect((await loadError(dir)).message).toContain('zz-bad.cedar:1:1: @id("default-deny") is reserved');
    await writeFile(path.join(dir, 'zz-bad.cedar'), forbidWithId('__proto__'));
    expect((await loadError(dir)).message).toContain('zz-bad.cedar:1:1: @id("__proto__") must be');
  });

  it('a schema syntax error names schema.cedarschema and its position', async () => {
    const dir = await shippedCopy();
    const schemaPath = path.join(dir, 'schema.cedarschema');
    const schema = await readFile(schemaPath, 'utf8');
    await writeFile(schemaPath, schema.replace('    revoked: Bool,', '    revoked: Bool'));
    const err = await loadError(dir);
    expect(err.issues[0]).toMatchObject({ file: 'schema.cedarschema' });
    expect(err.message).toMatch(/schema\.cedarschema:\d+:\d+: .*unexpected token/);
  });

  it('a missing schema or an empty directory is rejected', async () => {
    const dir = await shippedCopy();
    await rm(path.join(dir, 'schema.cedarschema'));
    expect((await loadError(dir)).message).toMatch(/schema\.cedarschema: cannot read/);
    const empty = await mkdtemp(path.join(tmpdir(), 'clearframe-empty-'));
    tmpDirs.push(empty);
    expect((await loadError(empty)).message).toMatch(/no \*\.cedar policy files/);
    expect((await loadError(path.join(empty, 'nope'))).message).toMatch(/cannot read policy directory/);
  });
});

describe('digest and edited policy sets', () => {
  it('is a stable sha256 over the files, independent of the directory', async () => {
    const a = await loadPolicySet(SHIPPED);
    const b = await loadPolicySet(await shippedCopy());
    expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(b.digest).toBe(a.digest);
  });

  it('a tightened copy changes the digest and the decisions', async () => {
    const shipped = await loadPolicySet(SHIPPED);
    const dir = await shippedCopy();
    // Legal adds a file: "constrained" training-mining assertions are refused too.
    await writeFile(
      path.join(dir, 'c2pa-constrained.cedar'),
      [
        '@id("c2pa-training-mining-constrained")',
        '@reason("The asset\'s embedded C2PA training-mining assertion constrains training.")',
        'forbid (principal, action == Clearframe::Action::"train", resource)',
        'when { resource.c2paTrainingMining == Clearframe::TrainingMining::"constrained" };',
        '',
      ].join('\n'),
    );
    const tightened = await loadPolicySet(dir);
    expect(tightened.digest).not.toBe(shipped.digest);
    expect(tightened.policies.map((p) => p.file)).toContain('c2pa-constrained.cedar');

    const assets = [asset('plain'), asset('constrained', { c2paTrainingMining: 'constrained' })];
    expect(shipped.evaluate(REQUEST, assets).map(summary)).toEqual([
      ['allow', ['training-permitted']],
      ['allow', ['training-permitted']],
    ]);
    expect(tightened.evaluate(REQUEST, assets).map(summary)).toEqual([
      ['allow', ['training-permitted']],
      ['deny', ['c2pa-training-mining-constrained']],
    ]);
  });

  it('editing a file, its name, or the schema changes the digest', async () => {
    const base = (await loadPolicySet(SHIPPED)).digest;
    const edited = await shippedCopy();
    const training = path.join(edited, 'training.cedar');
    await writeFile(training, `${await readFile(training, 'utf8')}\n// reviewed by legal\n`);
    const renamed = await shippedCopy();
    await rename(path.join(renamed, 'c2pa.cedar'), path.join(renamed, 'provenance.cedar'));
    const schemaEdited = await shippedCopy();
    const schemaText = await readFile(path.join(SHIPPED, 'schema.cedarschema'), 'utf8');
    await writeFile(path.join(schemaEdited, 'schema.cedarschema'), `// v2\n${schemaText}`);
    const digests = await Promise.all([edited, renamed, schemaEdited].map(async (d) => (await loadPolicySet(d)).digest));
    expect(new Set([base, ...digests]).size).toBe(4);
  });

  it('two policy sets live side by side', async () => {
    const dir = await shippedCopy();
    const training = path.join(dir, 'training.cedar');
    // Tighten the permit: evaluation only.
    await writeFile(
      training,
      (await readFile(training, 'utf8')).replace(
        '  context has license &&\n  !context.license.revoked &&',
        ['  context has license &&', '  context.request.purpose == Clearframe::Purpose::"evaluation" &&', '  !context.license.revoked &&'].join('\n'),
      ),
    );
    const tightened = await loadPolicySet(dir);
    const shipped = await loadPolicySet(SHIPPED);
    expect(summary(tightened.evaluate(REQUEST, [asset('a')])[0])).toEqual(['deny', ['default-deny']]);
    expect(summary(tightened.evaluate({ ...REQUEST, purpose: 'evaluation' }, [asset('a')])[0])).toEqual(['allow', ['training-permitted']]);
    expect(summary(shipped.evaluate(REQUEST, [asset('a')])[0])).toEqual(['allow', ['training-permitted']]);
  });
});

describe('fail closed', () => {
  it('an erroring forbid denies although a permit applies and Cedar skipped the forbid', async () => {
    const set = await loadPolicySet(fixture('policies-erroring-forbid'));
    const ds = set.evaluate(REQUEST, [
      asset('v0', { license: license({ version: 0 }) }), // forbid condition false: allowed
      asset('v1', { license: license({ version: 1 }) }), // forbid applies
      asset('v2', { license: license({ version: 2 }) }), // forbid overflows: Cedar alone would allow
    ]);
    expect(ds.map(summary)).toEqual([
      ['allow', ['permit-all']],
      ['deny', ['overflowing-forbid']],
      ['deny', ['overflowing-forbid']],
    ]);
    expect(ds[1]?.reasons[0]?.reason).toBe('Fixture: forbids license version 1, errors for version 2 and up.');
    expect(ds[2]?.reasons[0]?.reason).toMatch(/^evaluation error: .*overflow/);
  });

  it('an erroring policy next to a firing forbid names both', async () => {
    const dir = await shippedCopy();
    await cp(path.join(fixture('policies-erroring-forbid'), 'gate.cedar'), path.join(dir, 'zz-gate.cedar'));
    const set = await loadPolicySet(dir);
    const [d] = set.evaluate(REQUEST, [asset('x', { license: license({ version: 2, revoked: true }) })]);
    expect(summary(d)).toEqual(['deny', ['license-revoked', 'overflowing-forbid']]);
  });

  it('nothing permitting gives default-deny', async () => {
    const dir = await shippedCopy();
    await rm(path.join(dir, 'training.cedar'));
    const set = await loadPolicySet(dir);
    const [d] = set.evaluate(REQUEST, [asset('x')]);
    expect(d).toEqual({
      assetId: 'x',
      decision: 'deny',
      reasons: [{ policyId: 'default-deny', reason: 'no policy permits training on this asset' }],
      licenseId: 'lic-1',
    });
  });

  it('facts the schema does not describe deny every asset (the request is validated)', async () => {
    const dir = await shippedCopy();
    const schemaPath = path.join(dir, 'schema.cedarschema');
    const schema = await readFile(schemaPath, 'utf8');
    // The schema now requires an attribute the engine does not supply.
    await writeFile(schemaPath, schema.replace('    production: String,', '    production: String,\n    artist: String,'));
    const set = await loadPolicySet(dir);
    const ds = set.evaluate(REQUEST, [asset('a'), asset('b')]);
    expect(ds.map(summary)).toEqual([
      ['deny', ['evaluation-failure']],
      ['deny', ['evaluation-failure']],
    ]);
    expect(ds[0]?.reasons[0]?.reason).toMatch(/^evaluation error: .*artist/);
  });
});

describe('policy-input', () => {
  it('builds the Cedar request the schema describes', () => {
    const req = buildCedarRequest(
      REQUEST,
      asset('a', {
        c2paTrainingMining: 'constrained',
        license: license({ vendors: ['z', 'b', 'z'], baseModelFamilies: ['VEO'] }),
      }),
    );
    expect(req.principal).toEqual({ type: 'Clearframe::Vendor', id: 'acme-vfx' });
    expect(req.action).toEqual({ type: 'Clearframe::Action', id: 'train' });
    expect(req.resource).toEqual({ type: 'Clearframe::Asset', id: 'a' });
    expect(req.entities).toEqual([
      {
        uid: req.resource,
        attrs: {
          production: 'nightfall',
          c2paTrainingMining: { __entity: { type: 'Clearframe::TrainingMining', id: 'constrained' } },
          cawgTrainingMining: { __entity: { type: 'Clearframe::TrainingMining', id: 'absent' } },
          embeddedManifest: { __entity: { type: 'Clearframe::EmbeddedManifest', id: 'none' } },
          embeddedTermsOverridden: false,
        },
        parents: [],
      },
    ]);
    expect(req.context).toMatchObject({
      now: { __extn: { fn: 'datetime', arg: '2026-03-15T12:00:00.000Z' } },
      request: {
        purpose: { __entity: { type: 'Clearframe::Purpose', id: 'fine-tune' } },
        baseModel: 'veo-3.0-generate-001',
        baseModelFamily: 'veo',
      },
      approval: { present: false },
      license: {
        licensee: { __entity: { type: 'Clearframe::Vendor', id: 'acme-vfx' } },
        vendors: [{ __entity: { type: 'Clearframe::Vendor', id: 'b' } }, { __entity: { type: 'Clearframe::Vendor', id: 'z' } }],
        baseModelFamilies: ['veo'],
        termEnd: { __extn: { fn: 'datetime', arg: '2027-01-01T00:00:00.000Z' } },
      },
    });
    expect(buildCedarRequest(REQUEST, asset('a', { license: undefined })).context).not.toHaveProperty('license');
  });

  it('equal keys exactly when the requests are equal up to the asset id', () => {
    const openApproval = { vendor: 'acme-vfx', purpose: 'fine-tune', validFrom: '2020-01-01', validUntil: '2030-01-01' };
    const variants: AssetFacts[] = [
      asset('a'),
      asset('b'),
      asset('c', { license: license() }),
      asset('d', { license: license({ vendors: ['q', 'p'] }) }),
      asset('e', { license: license({ vendors: ['p', 'q'] }) }),
      asset('f', { license: license({ termEnd: '2027-01-01T01:00:00+01:00' }) }), // same instant as default
      asset('g', { license: license({ termEnd: '2027-01-01T00:00:00.001Z' }) }),
      asset('h', { production: 'other' }),
      asset('i', { production: 'other\n0' }),
      asset('j', { cawgTrainingMining: 'allowed' }),
      asset('k', { c2paTrainingMining: 'allowed' }),
      asset('l', { license: undefined }),
      asset('m', { license: null, approvals: [openApproval] }),
      asset('n', { approvals: [openApproval] }),
      asset('o', { license: license({ baseModelFamilies: [] }) }),
      asset('p', { license: license({ baseModelFamilies: null }) }),
    ];
    const build = createRequestBuilder(REQUEST);
    const built = variants.map((v) => build(v));
    const withoutId = (i: number): string => {
      const r = built[i]!.request();
      return JSON.stringify({ ...r, resource: null, entities: r.entities.map((e) => ({ ...e, uid: null })) });
    };
    for (let i = 0; i < variants.length; i++) {
      for (let j = 0; j < variants.length; j++) {
        expect([i, j, built[i]!.key === built[j]!.key]).toEqual([i, j, withoutId(i) === withoutId(j)]);
      }
    }
  });

  it('reads instants strictly', () => {
    expect(parseInstant('2026-03-15T12:00:00Z', 'floor')).toBe(Date.UTC(2026, 2, 15, 12));
    expect(parseInstant('2026-03-15T13:30:00+01:30', 'floor')).toBe(Date.UTC(2026, 2, 15, 12));
    expect(parseInstant('2026-03-15T12:00:00.0001Z', 'floor')).toBe(Date.UTC(2026, 2, 15, 12));
    expect(parseInstant('2026-03-15T12:00:00.0001Z', 'ceil')).toBe(Date.UTC(2026, 2, 15, 12) + 1);
    expect(parseInstant('2026-03-15', 'floor')).toBe(Date.UTC(2026, 2, 15));
    for (const bad of ['2026-03-15T12:00:00', '2026-02-30T00:00:00Z', '2026-03-15T24:00:00Z', 'yesterday', '']) {
      expect(() => parseInstant(bad, 'floor')).toThrow(PolicyInputError);
    }
  });
});

describe('deduplication', () => {
  it('100,000 assets sharing 3 licenses get correct per-asset decisions', async () => {
    const set = await loadPolicySet(SHIPPED);
    const allowed = license({ id: 'lic-allowed' });
    const revoked = license({ id: 'lic-revoked', revoked: true });
    const approval = license({
      id: 'lic-approval',
      vendors: ['pixel-forge'],
      grants: { training: 'requiresApproval', derivatives: 'notAllowed', commercial: 'notAllowed' },
    });
    const approvals = [
      {
        vendor: 'acme-vfx',
        purpose: 'fine-tune',
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2026-06-01T00:00:00Z',
      },
    ];
    const N = 100_000;
    const assets: AssetFacts[] = [];
    const expected: [string, string[]][] = [];
    for (let i = 0; i < N; i++) {
      const id = `asset-${i}`;
      switch (i % 3) {
        case 0:
          // Every 7th asset of this license objects through CAWG.
          if (i % 7 === 0) {
            assets.push(asset(id, { license: allowed, cawgTrainingMining: 'notAllowed' }));
            expected.push(['deny', ['cawg-training-mining-not-allowed']]);
          } else {
            assets.push(asset(id, { license: allowed, c2paTrainingMining: i % 2 ? 'allowed' : undefined }));
            expected.push(['allow', ['training-permitted']]);
          }
          break;
        case 1:
          assets.push(asset(id, { license: revoked }));
          expected.push(['deny', ['license-revoked']]);
          break;
        default:
          // Only some assets carry the recorded approval.
          if (i % 5 === 0) {
            assets.push(asset(id, { license: approval, approvals }));
            expected.push(['allow', ['training-permitted']]);
          } else {
            assets.push(asset(id, { license: approval }));
            expected.push(['deny', ['training-approval-missing']]);
          }
      }
    }
    let stats: EvaluationStats | undefined;
    const decisions = set.evaluate(REQUEST, assets, { onStats: (s) => (stats = s) });
    expect(decisions).toHaveLength(N);
    // allowed: c2pa absent or allowed (1: the shipped policies only ask "notAllowed?") / cawg notAllowed
    // (1); revoked (1); approval: with / without (2).
    expect(stats).toEqual({ assets: N, cedarCalls: 5 });
    let mismatches = 0;
    for (let i = 0; i < N; i++) {
      const d = decisions[i];
      const want = expected[i];
      if (d?.assetId !== `asset-${i}` || JSON.stringify(summary(d)) !== JSON.stringify(want)) mismatches++;
    }
    expect(mismatches).toBe(0);
    const counts = { allow: 0, deny: 0 };
    for (const d of decisions) counts[d.decision]++;
    expect(counts.allow + counts.deny).toBe(N);
    expect(counts.allow).toBeGreaterThan(20_000);
  });

  it('license facts equal by value share a decision; differing facts do not', async () => {
    const set = await loadPolicySet(SHIPPED);
    let stats: EvaluationStats | undefined;
    const ds = set.evaluate(
      REQUEST,
      [
        asset('a', { license: license({ vendors: ['x', 'y'] }) }),
        asset('b', { license: license({ vendors: ['y', 'x', 'x'] }) }), // same set
        asset('c', { license: license({ vendors: ['y', 'x'], id: 'lic-other', version: 2 }) }), // same terms, other license row
        asset('d', { license: license(), production: 'other-film' }),
        asset('e', { license: license(), sha256: 'f'.repeat(64) }), // hash is not a policy input
      ],
      { onStats: (s) => (stats = s) },
    );
    // a+b+c share terms (no shipped policy reads a license's id or version); d's production is read by no
    // shipped policy, so d shares with e (the default license); the hash is never a policy input.
    expect(stats?.cedarCalls).toBe(2);
    expect(ds.map((d) => d.assetId)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(ds.every((d) => d.decision === 'allow')).toBe(true);
  });

  it("a malformed license id or version denies although its terms equal a valid license's", async () => {
    const set = await loadPolicySet(SHIPPED);
    const ds = set.evaluate(REQUEST, [
      asset('a'),
      asset('b', { license: license({ version: Number.NaN }) }),
      asset('c', { license: license({ id: 7 as unknown as string }) }),
      asset('d', { license: license({ id: 'lic-2', version: 2 }) }),
    ]);
    expect(ds.map((d) => [d.decision, d.reasons[0]?.policyId])).toEqual([
      ['allow', 'training-permitted'],
      ['deny', 'invalid-facts'],
      ['deny', 'invalid-facts'],
      ['allow', 'training-permitted'],
    ]);
  });

  it('a policy reading a license id or version keeps equal terms under different licenses apart', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'clearframe-license-identity-'));
    await cp(SHIPPED, dir, { recursive: true });
    await writeFile(
      path.join(dir, 'zz-versions.cedar'),
      '@id("only-first-versions")\n@reason("Amended licenses need a fresh legal review.")\nforbid (principal, action, resource) when { context has license && context.license.version > 1 };\n',
    );
    const set = await loadPolicySet(dir);
    let stats: EvaluationStats | undefined;
    const ds = set.evaluate(REQUEST, [asset('a', { license: license() }), asset('c', { license: license({ id: 'lic-other', version: 2 }) })], {
      onStats: (s) => (stats = s),
    });
    expect(stats?.cedarCalls).toBe(2);
    expect(ds.map((d) => d.decision)).toEqual(['allow', 'deny']);
    await rm(dir, { recursive: true, force: true });
  });

  it('a policy reading the production keeps assets of different productions apart', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'clearframe-production-'));
    await cp(SHIPPED, dir, { recursive: true });
    await writeFile(
      path.join(dir, 'zz-production.cedar'),
      '@id("not-this-film")\n@reason("Art of the pilot stays in the pilot.")\nforbid (principal, action, resource) when { resource.production == "night-shift-pilot" };\n',
    );
    const set = await loadPolicySet(dir);
    let stats: EvaluationStats | undefined;
    const ds = set.evaluate(REQUEST, [asset('a', { license: license() }), asset('b', { license: license(), production: 'night-shift-pilot' })], {
      onStats: (s) => (stats = s),
    });
    expect(stats?.cedarCalls).toBe(2);
    expect(ds.map((d) => d.decision)).toEqual(['allow', 'deny']);
    await rm(dir, { recursive: true, force: true });
  });

  it('training-mining values no policy names share a decision; a policy naming "constrained" keeps it apart', async () => {
    const values = [undefined, 'allowed', 'constrained', 'notAllowed'] as const;
    const assets: AssetFacts[] = [];
    for (const c2pa of values) {
      for (const cawg of values) {
        assets.push(asset(`a-${c2pa ?? 'absent'}-${cawg ?? 'absent'}`, { c2paTrainingMining: c2pa, cawgTrainingMining: cawg }));
      }
    }
    const expected = (set: 'shipped' | 'strict') =>
      assets.map((a): [string, string[]] => {
        const c2pa = a.c2paTrainingMining;
        const cawg = a.cawgTrainingMining;
        const ids = [
          ...(c2pa === 'notAllowed' ? ['c2pa-training-mining-not-allowed'] : []),
          ...(cawg === 'notAllowed' ? ['cawg-training-mining-not-allowed'] : []),
          ...(set === 'strict' && c2pa === 'constrained' ? ['c2pa-constrained-needs-review'] : []),
        ];
        return ids.length > 0 ? ['deny', ids] : ['allow', ['training-permitted']];
      });

    // Shipped: every reference is `== / != notAllowed`, so absent, allowed and constrained fold together.
    const shipped = await loadPolicySet(SHIPPED);
    let stats: EvaluationStats | undefined;
    const ds = shipped.evaluate(REQUEST, assets, { onStats: (s) => (stats = s) });
    expect(ds.map(summary)).toEqual(expected('shipped'));
    expect(stats).toEqual({ assets: 16, cedarCalls: 4 }); // {other, notAllowed} × {other, notAllowed}

    // A policy edited to read "constrained": that value is no longer folded with the others.
    const dir = await shippedCopy();
    const c2pa = await readFile(path.join(dir, 'c2pa.cedar'), 'utf8');
    await writeFile(
      path.join(dir, 'c2pa.cedar'),
      `${c2pa}\n@id("c2pa-constrained-needs-review")\n@reason("Constrained art needs a legal review first.")\n` +
        'forbid (principal, action == Clearframe::Action::"train", resource)\n' +
        'when { resource.c2paTrainingMining == Clearframe::TrainingMining::"constrained" };\n',
    );
    const strict = await loadPolicySet(dir);
    const strictDs = strict.evaluate(REQUEST, assets, { onStats: (s) => (stats = s) });
    expect(strictDs.map(summary)).toEqual(expected('strict'));
    expect(stats).toEqual({ assets: 16, cedarCalls: 6 }); // {other, constrained, notAllowed} × {other, notAllowed}
    // In either order: a "constrained" asset first in the batch does not decide for an "allowed" one.
    const pair = [asset('x', { c2paTrainingMining: 'constrained' }), asset('y', { c2paTrainingMining: 'allowed' }), asset('z')];
    expect(strict.evaluate(REQUEST, pair).map((d) => d.decision)).toEqual(['deny', 'allow', 'allow']);
    expect(strict.evaluate(REQUEST, pair.slice().reverse()).map((d) => d.decision)).toEqual(['allow', 'allow', 'deny']);
  });

  it('a training-mining value read other than by comparison with a literal turns the folding off', async () => {
    const dir = await shippedCopy();
    // `in` a set: not an equality with one literal, so every value counts (here it can tell allowed from constrained).
    await writeFile(
      path.join(dir, 'zz-mining-set.cedar'),
      '@id("cawg-explicitly-allowed-only")\n@reason("Only art whose CAWG assertion allows mining.")\n' +
        'forbid (principal, action == Clearframe::Action::"train", resource)\n' +
        'unless { resource.cawgTrainingMining in [Clearframe::TrainingMining::"allowed", Clearframe::TrainingMining::"absent"] };\n',
    );
    const set = await loadPolicySet(dir);
    let stats: EvaluationStats | undefined;
    const ds = set.evaluate(
      REQUEST,
      [asset('a'), asset('b', { cawgTrainingMining: 'allowed' }), asset('c', { cawgTrainingMining: 'constrained' }), asset('d', { c2paTrainingMining: 'constrained' })],
      { onStats: (s) => (stats = s) },
    );
    expect(ds.map(summary)).toEqual([
      ['allow', ['training-permitted']],
      ['allow', ['training-permitted']],
      ['deny', ['cawg-explicitly-allowed-only']],
      ['allow', ['training-permitted']],
    ]);
    // cawg: absent, allowed, constrained apart (3); c2pa still folds (d shares a's decision).
    expect(stats?.cedarCalls).toBe(3);
  });

  it('the training-mining analysis reads the policy JSON: only == / != with an enum literal is a known test', () => {
    const tests = (text: string) => {
      const json = cedar.policyToJson(text);
      if (json.type !== 'success') throw new Error(JSON.stringify(json.errors));
      return Object.fromEntries([...miningTests(json.json.conditions)].map(([k, v]) => [k, v === null ? null : [...v].sort()]));
    };
    const lit = (v: string) => `Clearframe::TrainingMining::"${v}"`;
    const when = (cond: string) => `permit (principal, action, resource) when { ${cond} };`;
    expect(tests(when(`resource.c2paTrainingMining == ${lit('notAllowed')}`))).toEqual({ c2paTrainingMining: ['notAllowed'] });
    expect(tests(when(`${lit('notAllowed')} != resource.cawgTrainingMining && resource.cawgTrainingMining != ${lit('constrained')}`))).toEqual({
      cawgTrainingMining: ['constrained', 'notAllowed'],
    });
    expect(tests(when('resource has c2paTrainingMining'))).toEqual({});
    expect(tests(when('resource.production == "x"'))).toEqual({});
    for (const other of [
      'resource.c2paTrainingMining == resource.cawgTrainingMining',
      `resource.c2paTrainingMining in [${lit('allowed')}]`,
      'resource.c2paTrainingMining is Clearframe::TrainingMining',
      `(if context has license then resource.c2paTrainingMining else ${lit('absent')}) == ${lit('notAllowed')}`,
      `[resource.c2paTrainingMining].contains(${lit('allowed')})`,
      `resource.c2paTrainingMining == ${lit('notAllowed')} && resource.c2paTrainingMining in [${lit('allowed')}]`,
    ]) {
      expect([other, tests(when(other)).c2paTrainingMining]).toEqual([other, null]);
    }
  });

  it('a policy naming one asset disables sharing decisions between assets', async () => {
    const set = await loadPolicySet(fixture('policies-names-asset'));
    let stats: EvaluationStats | undefined;
    const ds = set.evaluate(REQUEST, [asset('asset-1'), asset('asset-withdrawn'), asset('asset-2')], {
      onStats: (s) => (stats = s),
    });
    expect(ds.map(summary)).toEqual([
      ['allow', ['permit-all']],
      ['deny', ['withdrawn-asset']],
      ['allow', ['permit-all']],
    ]);
    expect(stats?.cedarCalls).toBe(3);
  });

  it('decisions are plain data: no Cedar types leak, shared reasons are frozen', async () => {
    const set = await loadPolicySet(SHIPPED);
    const [a, b] = set.evaluate(REQUEST, [asset('a'), asset('b')]);
    expect(Object.keys(a ?? {}).sort()).toEqual(['assetId', 'decision', 'licenseId', 'reasons']);
    expect(a?.reasons).toBe(b?.reasons);
    expect(Object.isFrozen(a?.reasons)).toBe(true);
    expect(set.evaluate(REQUEST, [])).toEqual([]);
  });
});

describe('several licenses on one asset', () => {
  const merch = license({ id: 'lic-merch', licensee: 'Merch Co', grants: { training: 'notAllowed', derivatives: 'notAllowed', commercial: 'allowed' } });
  const vendorRevoked = license({ id: 'lic-vendor', revoked: true });

  it('allowed when any license allows, resting on that one', async () => {
    const set = await loadPolicySet(SHIPPED);
    const [d] = set.evaluate(REQUEST, [asset('a', { license: merch, otherLicenses: [{ license: license({ id: 'lic-vendor' }), approvals: [] }] })]);
    expect(d?.decision).toBe('allow');
    expect(d?.licenseId).toBe('lic-vendor');
    expect(d?.reasons.map((r) => r.policyId)).toEqual(['training-permitted']);
  });

  it('denied when none allows: every license its reasons, each policy once, naming the license that names the vendor', async () => {
    const set = await loadPolicySet(SHIPPED);
    const [d] = set.evaluate(REQUEST, [asset('a', { license: merch, otherLicenses: [{ license: vendorRevoked, approvals: [] }] })]);
    expect(d?.decision).toBe('deny');
    expect(d?.licenseId).toBe('lic-vendor');
    const ids = d?.reasons.map((r) => r.policyId) ?? [];
    expect(ids).toContain('license-revoked');
    expect(ids).toContain('vendor-not-licensed');
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('one license decides as before', async () => {
    const set = await loadPolicySet(SHIPPED);
    const [one, several] = set.evaluate(REQUEST, [asset('a', { license: vendorRevoked }), asset('b', { license: vendorRevoked, otherLicenses: [] })]);
    expect(summary(one)).toEqual(summary(several));
    expect(one?.licenseId).toBe('lic-vendor');
  });
});
