// Source assets of an output: may this art be used as reference or conditioning for this checkpoint's output?

import type { Queryable } from '../db/database.ts';
import { type DerivativeUse, derivativeRefusals, loadDerivativeFacts } from '../gate/derive.ts';
import type { PolicySet } from '../gate/policy-engine.ts';
import type { AssetFacts } from '../gate/policy-input.ts';
import { type Problem, problems } from '../http/problem.ts';

/**
 * Why a source was refused: the id of the Cedar policy that decided (policies/*.cedar: `license-missing`,
 * `license-revoked`, `license-outside-term`, `vendor-not-licensed`, `derivatives-not-allowed`,
 * `derivatives-approval-missing`, `c2pa-training-mining-not-allowed`, `cawg-training-mining-not-allowed`,
 * `embedded-manifest-unreadable`, ... and whatever legal adds), or the engine's own (`default-deny`,
 * `invalid-facts`, `evaluation-failure`): one vocabulary names a refusal at the gate and here.
 */
export type SourceRefusalCause = string;

export type SourceRefusal = { assetId: string; licenseId: string | null; cause: SourceRefusalCause; reason: string };

/** The use a source is put to: by the checkpoint's vendor, under its clearance's purpose, now. */
export type SourceUse = DerivativeUse;

/**
 * The gate's `derive` decision for each source, by the policies in force (the same ones that clear
 * training): cleared when its current license stands for the vendor, inside its term, with a derivative
 * grant that allows it (or requires approval and a recorded derivatives approval covers vendor, purpose and
 * time), and its own manifest neither says `notAllowed` nor fails to validate. Every reason that applies,
 * per asset in policy order.
 */
export function sourceRefusals(policySet: PolicySet, facts: readonly AssetFacts[], use: SourceUse): SourceRefusal[] {
  return derivativeRefusals(policySet, facts, use).map((r) => ({ assetId: r.assetId, licenseId: r.licenseId, cause: r.policyId, reason: r.reason }));
}

/** The 409 for refused sources: each asset with its reasons; nothing is signed or recorded. */
export function sourcesProblem(refused: readonly SourceRefusal[]): Problem {
  const assets = [...new Set(refused.map((r) => r.assetId))];
  return problems.conflict(`source assets not cleared for use in this output: ${refused.map((r) => `${r.assetId} (${r.cause})`).join(', ')}; nothing was signed`, {
    refusedAssetIds: assets,
    refusedSources: refused,
  });
}

/** The facts of the given sources (one read: two prepared statements side by side), as the gate reads them, with derivative approvals. */
export function readSourceFacts(q: Queryable, assetIds: readonly string[]): Promise<AssetFacts[]> {
  return loadDerivativeFacts(q, assetIds);
}

/** Throws the 409 when any source is not cleared for this use. */
export function refuseUnclearedSources(policySet: PolicySet, facts: readonly AssetFacts[], use: SourceUse): void {
  const refused = sourceRefusals(policySet, facts, use);
  if (refused.length > 0) throw sourcesProblem(refused);
}
