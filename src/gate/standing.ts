/**
 * Whether a clearance still stands: pure, from the license versions it rests on as they are now.
 * A clearance falls when any of them is revoked (or a later version of the same asset's license is:
 * the amendment replaced the terms the clearance relied on, and revoking it ends them), or its term has
 * run out, or when the clearance itself expires. Checkpoints built on a fallen clearance are tainted;
 * the clearance's own expiry only stops new training, it does not taint what was trained.
 */
export type RestingLicense = {
  licenseId: string;
  assetId: string;
  assetCount: number;
  termEnd: Date;
  /** The earliest revocation of this version or of a later version of the same asset's license. */
  revocation: { licenseId: string; at: Date; reason: string | null } | null;
};

export type StandingCause =
  | { cause: 'license-revoked'; licenseId: string; assetId: string; assetCount: number; at: string; reason: string | null }
  | { cause: 'license-expired'; licenseId: string; assetId: string; assetCount: number; at: string }
  | { cause: 'clearance-expired'; at: string }
  | { cause: 'denied' };

export type Standing = { status: 'standing' | 'revoked' | 'expired' | 'denied'; causes: StandingCause[] };

export function clearanceStanding(clearance: { decision: 'allow' | 'deny'; expiresAt: Date | null }, licenses: readonly RestingLicense[], now: Date): Standing {
  if (clearance.decision === 'deny') return { status: 'denied', causes: [{ cause: 'denied' }] };
  const causes: StandingCause[] = [];
  for (const l of licenses) {
    if (l.revocation && l.revocation.at.getTime() <= now.getTime()) {
      const r = l.revocation;
      causes.push({ cause: 'license-revoked', licenseId: r.licenseId, assetId: l.assetId, assetCount: l.assetCount, at: r.at.toISOString(), reason: r.reason });
    } else if (l.termEnd.getTime() <= now.getTime()) {
      causes.push({ cause: 'license-expired', licenseId: l.licenseId, assetId: l.assetId, assetCount: l.assetCount, at: l.termEnd.toISOString() });
    }
  }
  if (causes.length > 0) return { status: 'revoked', causes };
  if (clearance.expiresAt && clearance.expiresAt.getTime() <= now.getTime()) {
    return { status: 'expired', causes: [{ cause: 'clearance-expired', at: clearance.expiresAt.toISOString() }] };
  }
  return { status: 'standing', causes: [] };
}

/** One cause in words, for answers that explain a refusal. */
export function describeStandingCause(c: StandingCause): string {
  switch (c.cause) {
    case 'license-revoked':
      return `license ${c.licenseId} of asset ${c.assetId} was revoked at ${c.at}${c.reason ? `: ${c.reason}` : ''}`;
    case 'license-expired':
      return `license ${c.licenseId} of asset ${c.assetId} ended at ${c.at}`;
    case 'clearance-expired':
      return `the clearance expired at ${c.at}`;
    case 'denied':
      return 'the clearance was a denial';
  }
}
