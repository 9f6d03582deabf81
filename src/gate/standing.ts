/**
 * Whether a clearance still stands: pure, from the license versions it rests on as they are now.
 * A clearance falls when any of them is revoked or its term has run out, or when the clearance itself
 * expires. (The checkpoints built on it read the same answer: see issue 4's taint.)
 */
export type RestingLicense = { licenseId: string; assetCount: number; revokedAt: Date | null; revocationReason?: string | null; termEnd: Date };

export type StandingCause =
  | { cause: 'license-revoked'; licenseId: string; assetCount: number; at: string; reason: string | null }
  | { cause: 'license-expired'; licenseId: string; assetCount: number; at: string }
  | { cause: 'clearance-expired'; at: string }
  | { cause: 'denied' };

export type Standing = { status: 'standing' | 'revoked' | 'expired' | 'denied'; causes: StandingCause[] };

export function clearanceStanding(
  clearance: { decision: 'allow' | 'deny'; expiresAt: Date | null },
  licenses: readonly RestingLicense[],
  now: Date,
): Standing {
  if (clearance.decision === 'deny') return { status: 'denied', causes: [{ cause: 'denied' }] };
  const causes: StandingCause[] = [];
  for (const l of licenses) {
    if (l.revokedAt && l.revokedAt.getTime() <= now.getTime()) {
      causes.push({ cause: 'license-revoked', licenseId: l.licenseId, assetCount: l.assetCount, at: l.revokedAt.toISOString(), reason: l.revocationReason ?? null });
    } else if (l.termEnd.getTime() <= now.getTime()) {
      causes.push({ cause: 'license-expired', licenseId: l.licenseId, assetCount: l.assetCount, at: l.termEnd.toISOString() });
    }
  }
  if (causes.length > 0) return { status: 'revoked', causes };
  if (clearance.expiresAt && clearance.expiresAt.getTime() <= now.getTime()) {
    return { status: 'expired', causes: [{ cause: 'clearance-expired', at: clearance.expiresAt.toISOString() }] };
  }
  return { status: 'standing', causes: [] };
}
