/**
 * What a clearance will record, worked out from an evaluation before anything is written: pure, no I/O,
 * so it can be prepared outside the append lock and prepared again if the facts went stale meanwhile.
 */
import { type AssetOutcome, compactDecisions, type DecisionRecord, outcomesDigest } from './decision-record.ts';
import type { AssetFacts } from './policy-input.ts';

export type ClearancePlan = {
  decision: 'allow' | 'deny';
  /** Subset mode with something to leave out and something to clear: a derived dataset is made. */
  subset: boolean;
  allowed: AssetOutcome[];
  denied: AssetOutcome[];
  /** Distinct license versions the allow rests on (one per cleared asset with per-asset licenses). */
  restingLicenseCount: number;
  /** The clearance's expiry: its time to live, and never past the earliest license term under it. */
  expiresAt: Date | null;
  record: DecisionRecord;
  decisionsDigest: string;
};

/** `outcomes[i]` and `facts[i]` are the member at position i of the requested dataset. */
export function planClearance(outcomes: readonly AssetOutcome[], facts: readonly AssetFacts[], mode: 'all' | 'subset', at: Date, ttlSeconds: number): ClearancePlan {
  const allowed: AssetOutcome[] = [];
  const denied: AssetOutcome[] = [];
  for (const o of outcomes) (o.decision === 'allow' ? allowed : denied).push(o);
  const subset = mode === 'subset' && denied.length > 0 && allowed.length > 0;
  const decision: 'allow' | 'deny' = denied.length === 0 || subset ? 'allow' : 'deny';

  let restingLicenseCount = 0;
  let expiresAt: Date | null = null;
  if (decision === 'allow') {
    // A loop, not Math.min(...spread): a dataset can rest on 100,000 licenses, too many call arguments.
    let earliest = at.getTime() + ttlSeconds * 1000;
    const licenses = new Set<string>();
    const ends = new Map<string, number>(); // a studio's licenses share a few dozen term ends
    outcomes.forEach((o, i) => {
      if (o.decision !== 'allow') return; // in mode "all" an allow has no denied members
      // The license the allow rests on: of several, the one that allowed (gate/several-licenses.ts).
      const f = facts[i]!;
      const license = f.otherLicenses?.find((x) => x.license.id === o.licenseId)?.license ?? f.license!;
      licenses.add(license.id);
      let end = ends.get(license.termEnd);
      if (end === undefined) {
        end = Date.parse(license.termEnd);
        ends.set(license.termEnd, end);
      }
      if (end < earliest) earliest = end;
    });
    restingLicenseCount = licenses.size;
    expiresAt = new Date(earliest);
  }
  return {
    decision,
    subset,
    allowed,
    denied,
    restingLicenseCount,
    expiresAt,
    record: compactDecisions(outcomes),
    decisionsDigest: outcomesDigest(outcomes),
  };
}
