// The gate's answer for source art: may an output of a vendor's checkpoint use these assets as reference
// or conditioning? Asked by outputs (above the gate) and decided by the same Cedar policies as training.

import type { Queryable } from '../db/database.ts';
import type { TrainingPurpose } from '../vocabulary/rights.ts';
import { loadAssetFacts } from './facts.ts';
import type { PolicySet } from './policy-engine.ts';
import type { AssetFacts } from './policy-input.ts';

/** The use a source is put to: by the checkpoint's vendor, under its clearance's purpose and base model, at a time. */
export type DerivativeUse = { vendor: string; purpose: TrainingPurpose; baseModel: string; at: Date };

/** One reason one source is refused: the id of the policy that decided (or the engine's own), and its words. */
export type DerivativeRefusal = { assetId: string; licenseId: string | null; policyId: string; reason: string };

/** The facts the `derive` action is decided on: the gate's facts, with the derivative grant's approvals. */
export function loadDerivativeFacts(q: Queryable, assetIds: readonly string[]): Promise<AssetFacts[]> {
  if (assetIds.length === 0) return Promise.resolve([]);
  return loadAssetFacts(
    q,
    assetIds.map((assetId) => ({ assetId, sha256: '' })),
    'derivatives',
  );
}

/**
 * Every refusal of the `derive` action over the facts, in the facts' order and, per asset, in policy order:
 * each forbid that applied, or the engine's own deny (default-deny, invalid facts, evaluation errors).
 * Empty when every source is cleared.
 */
export function derivativeRefusals(policySet: PolicySet, facts: readonly AssetFacts[], use: DerivativeUse): DerivativeRefusal[] {
  if (facts.length === 0) return [];
  const decisions = policySet.evaluate({ action: 'derive', vendor: use.vendor, purpose: use.purpose, baseModel: use.baseModel, at: use.at.toISOString() }, facts);
  const out: DerivativeRefusal[] = [];
  decisions.forEach((d) => {
    if (d.decision === 'allow') return;
    for (const r of d.reasons) out.push({ assetId: d.assetId, licenseId: d.licenseId, policyId: r.policyId, reason: r.reason });
  });
  return out;
}
