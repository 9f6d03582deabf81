import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { readFileSync, readdirSync } from 'node:fs';
import { buildCedarRequest } from '../src/gate/policy-input.ts';
import { performance } from 'node:perf_hooks';
const dir = 'policies';
const policies: Record<string, string> = {};
for (const f of readdirSync(dir).filter((f) => f.endsWith('.cedar')).sort()) {
  const parts = cedar.policySetTextToParts(readFileSync(`${dir}/${f}`, 'utf8'));
  if (parts.type === 'failure') throw new Error();
  for (const p of parts.policies) policies[/@id\("([^"]+)"\)/.exec(p)![1]!] = p;
}
const schema = readFileSync(`${dir}/schema.cedarschema`, 'utf8');
console.log(cedar.preparsePolicySet('p', { staticPolicies: policies }), cedar.preparseSchema('s', schema));
const gate = { vendor: 'acme-vfx', purpose: 'fine-tune' as const, baseModel: 'veo-3.0-generate-001', at: new Date().toISOString() };
const lic = { id: 'lic_1', version: 1, revoked: false, superseded: false, licensee: 'Upstairs Films', vendors: ['acme-vfx'], grants: { training: 'allowed' as const, derivatives: 'allowed' as const, commercial: 'notAllowed' as const }, termStart: '2025-01-01T00:00:00Z', termEnd: '2029-01-01T00:00:00Z', territories: ['US'], media: ['streaming'], baseModelFamilies: null };
const r = buildCedarRequest(gate, { assetId: 'ast_1', sha256: 'a'.repeat(64), production: 'x', license: lic, approvals: [] });
const N = 2000;
function time(name: string, f: () => unknown) {
  for (let i = 0; i < 100; i++) f();
  const t = performance.now();
  for (let i = 0; i < N; i++) f();
  console.log(name, (((performance.now() - t) * 1000) / N).toFixed(1), 'us/call');
}
const base = { principal: r.principal, action: r.action, resource: r.resource, context: r.context as cedar.Context, entities: r.entities as cedar.EntityJson[] };
time('stateful validate+schema', () => cedar.statefulIsAuthorized({ ...base, preparsedPolicySetId: 'p', preparsedSchemaName: 's', validateRequest: true }));
time('stateful schema novalidate', () => cedar.statefulIsAuthorized({ ...base, preparsedPolicySetId: 'p', preparsedSchemaName: 's', validateRequest: false }));
time('stateful no schema', () => cedar.statefulIsAuthorized({ ...base, preparsedPolicySetId: 'p', validateRequest: false }));
time('isAuthorized text no schema', () => cedar.isAuthorized({ ...base, policies: { staticPolicies: policies } }));
time('isAuthorized text + schema', () => cedar.isAuthorized({ ...base, schema, validateRequest: true, policies: { staticPolicies: policies } }));
const x = cedar.statefulIsAuthorized({ ...base, preparsedPolicySetId: 'p', preparsedSchemaName: 's', validateRequest: true });
console.log(JSON.stringify(x));
