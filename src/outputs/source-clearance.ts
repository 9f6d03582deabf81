// Source assets of an output: may this art be used as reference or conditioning for this checkpoint's output?

import type { Queryable } from '../db/database.ts';
import { loadAssetFacts } from '../gate/facts.ts';
import { type AssetFacts, approvalCovers, type GateRequest, parseInstant } from '../gate/policy-input.ts';
import { type Problem, problems } from '../http/problem.ts';
import type { TrainingPurpose } from '../vocabulary/rights.ts';

/**
 * Why a source was refused: stable codes. The license ones are the ids of the shipped Cedar license
 * policies (policies/license.cedar), so one vocabulary names a refusal at the gate and here.
 */
export type SourceRefusalCause =
  | 'license-missing'
  | 'license-revoked'
  | 'license-outside-term'
  | 'vendor-not-licensed'
  | 'derivatives-not-allowed'
  | 'derivatives-approval-missing'
  | 'c2pa-training-mining-not-allowed'
  | 'cawg-training-mining-not-allowed';

export type SourceRefusal = { assetId: string; licenseId: string | null; cause: SourceRefusalCause; reason: string };

/** The use a source is put to: by the checkpoint's vendor, under its clearance's purpose, now. */
export type SourceUse = { vendor: string; purpose: TrainingPurpose; baseModel: string; at: Date };

/**
 * The derivative-use rule, pure: the shipped Cedar policies speak only of the `train` action, so the
 * derivative grant is decided here, from the same facts the gate reads (gate/facts.ts, with the
 * derivative approvals). A source is cleared when its current license is not revoked, the use falls
 * inside its term [start, end), the vendor is the licensee or named on it, the derivative grant is
 * `allowed` (or `requiresApproval` with a recorded derivatives approval covering vendor, purpose and time),
 * and its own embedded C2PA / CAWG training-mining assertion does not say `notAllowed`. Every reason that
 * applies is listed, in that order; an asset is named once per reason.
 */
export function sourceRefusals(facts: readonly AssetFacts[], use: SourceUse): SourceRefusal[] {
  const at = use.at.getTime();
  const request: GateRequest = { vendor: use.vendor, purpose: use.purpose, baseModel: use.baseModel, at: use.at.toISOString() };
  const out: SourceRefusal[] = [];
  for (const f of facts) {
    const license = f.license ?? null;
    const refuse = (cause: SourceRefusalCause, reason: string) => out.push({ assetId: f.assetId, licenseId: license?.id ?? null, cause, reason });
    if (!license) refuse('license-missing', `asset ${f.assetId} has no license`);
    else {
      if (license.revoked) refuse('license-revoked', `license ${license.id} of asset ${f.assetId} has been revoked`);
      if (!withinTerm(license.termStart, license.termEnd, at)) {
        refuse('license-outside-term', `license ${license.id} of asset ${f.assetId} runs ${license.termStart} to ${license.termEnd}, not now`);
      }
      if (license.licensee !== use.vendor && !license.vendors.includes(use.vendor)) {
        refuse('vendor-not-licensed', `vendor "${use.vendor}" is neither the licensee nor named on license ${license.id} of asset ${f.assetId}`);
      }
      const grant = license.grants.derivatives;
      if (grant === 'notAllowed') refuse('derivatives-not-allowed', `license ${license.id} of asset ${f.assetId} does not allow derivatives`);
      else if (grant === 'requiresApproval' && !approvalCovers(f.approvals, request, at)) {
        refuse(
          'derivatives-approval-missing',
          `license ${license.id} of asset ${f.assetId} requires approval for derivatives and no recorded approval covers vendor "${use.vendor}", purpose "${use.purpose}" and this time`,
        );
      }
    }
    if (f.c2paTrainingMining === 'notAllowed') refuse('c2pa-training-mining-not-allowed', `asset ${f.assetId} carries a C2PA training-mining assertion saying notAllowed`);
    if (f.cawgTrainingMining === 'notAllowed') refuse('cawg-training-mining-not-allowed', `asset ${f.assetId} carries a CAWG training-mining assertion saying notAllowed`);
  }
  return out;
}

function withinTerm(start: string, end: string, at: number): boolean {
  try {
    return parseInstant(start, 'ceil') <= at && at < parseInstant(end, 'floor');
  } catch {
    return false; // an unreadable term clears nothing
  }
}

/** The 409 for refused sources: each asset with its reasons; nothing is signed or recorded. */
export function sourcesProblem(refused: readonly SourceRefusal[]): Problem {
  const assets = [...new Set(refused.map((r) => r.assetId))];
  return problems.conflict(`source assets not cleared for use in this output: ${refused.map((r) => `${r.assetId} (${r.cause})`).join(', ')}; nothing was signed`, {
    refusedAssetIds: assets,
    refusedSources: refused,
  });
}

/** The facts of the given sources (one read: two statements side by side), as the gate reads them, with derivative approvals. */
export function readSourceFacts(q: Queryable, assetIds: readonly string[]): Promise<AssetFacts[]> {
  if (assetIds.length === 0) return Promise.resolve([]);
  return loadAssetFacts(
    q,
    assetIds.map((assetId) => ({ assetId, sha256: '' })),
    'derivatives',
  );
}

/** Throws the 409 when any source is not cleared for this use. */
export function refuseUnclearedSources(facts: readonly AssetFacts[], use: SourceUse): void {
  const refused = sourceRefusals(facts, use);
  if (refused.length > 0) throw sourcesProblem(refused);
}
