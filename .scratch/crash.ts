import { loadPolicySet } from '../src/gate/policy-engine.ts';
import type { AssetFacts } from '../src/gate/policy-input.ts';
const set = await loadPolicySet('policies');
const gate = { vendor: 'acme-vfx', purpose: 'fine-tune' as const, baseModel: 'veo-3.0-generate-001', at: new Date().toISOString() };
const mode = process.argv[2] ?? 'eval';
for (let round = 0; round < 20; round++) {
  const facts: AssetFacts[] = [];
  for (let i = 0; i < 3000; i++) {
    facts.push({ assetId: `ast_${round}_${i}`, sha256: 'a'.repeat(64), production: ['a', 'b', 'c'][i % 3]!, ...(i % 10 === 3 ? { c2paTrainingMining: 'allowed' as const } : {}),
      license: { id: `lic_${i}`, version: 1, revoked: false, superseded: false, licensee: 'Upstairs Films', vendors: ['acme-vfx'], grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' }, termStart: '2025-01-01T00:00:00.000Z', termEnd: '2029-01-01T00:00:00.000Z', territories: ['US'], media: ['streaming'], baseModelFamilies: i % 2 ? ['veo'] : null },
      approvals: [] });
  }
  const t = performance.now();
  const d = set.evaluate(gate, facts);
  console.log(round, d.length, (performance.now() - t).toFixed(0), 'ms');
}
