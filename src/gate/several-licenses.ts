/**
 * An asset may carry several standing licenses (the production's, a vendor's, a merchandiser's), each
 * decided by the policies on its own. Pure: how those decisions make the asset's one decision.
 *
 * - allowed when ANY of its licenses allows the use: the decision rests on the first that does (the
 *   reasons are that decision's permits, `licenseId` names it);
 * - denied when none does: the reasons are every license's reasons, each policy's once, in the licenses'
 *   order, and `licenseId` names the license the vendor is named on (licensee or vendors), if any, else the
 *   first: the one a reader would look at to see why it was refused.
 */
import type { ApprovalFacts, AssetFacts, LicenseFacts } from './policy-input.ts';

export type OtherLicense = { license: LicenseFacts; approvals: ApprovalFacts[]; commercialApprovals?: ApprovalFacts[] };

/** The facts once per license of the asset: its first license as given, then each other in order. */
export function perLicense(asset: AssetFacts): AssetFacts[] {
  const others = asset.otherLicenses;
  if (!others || others.length === 0) return [asset];
  const { otherLicenses: _, ...first } = asset;
  return [
    first,
    ...others.map((o) => ({
      ...first,
      license: o.license,
      approvals: o.approvals,
      ...(o.commercialApprovals !== undefined ? { commercialApprovals: o.commercialApprovals } : {}),
    })),
  ];
}

type Reason = { policyId: string; reason: string };
export type LicenseDecision = { decision: 'allow' | 'deny'; reasons: readonly Reason[] };

const namesVendor = (l: LicenseFacts | null | undefined, vendor: string) => Boolean(l && (l.licensee === vendor || l.vendors.includes(vendor)));

/** The asset's decision from its licenses' (`decisions[i]` is that of `variants[i]`, as perLicense gave them). */
export function combineLicenseDecisions(vendor: string, variants: readonly AssetFacts[], decisions: readonly LicenseDecision[]): LicenseDecision & { licenseId: string | null } {
  const allowing = decisions.findIndex((d) => d.decision === 'allow');
  if (allowing >= 0) return { decision: 'allow', reasons: decisions[allowing]!.reasons, licenseId: variants[allowing]!.license?.id ?? null };
  const seen = new Set<string>();
  const reasons: Reason[] = [];
  for (const d of decisions) {
    for (const r of d.reasons) {
      const key = `${r.policyId}\n${r.reason}`;
      if (seen.has(key)) continue;
      seen.add(key);
      reasons.push(r);
    }
  }
  const named = variants.find((v) => namesVendor(v.license, vendor)) ?? variants[0];
  return { decision: 'deny', reasons: Object.freeze(reasons), licenseId: named?.license?.id ?? null };
}
