/**
 * How a clearance's per-asset decisions are stored and read back: pure, no I/O.
 *
 * A studio's dataset of 100,000 assets usually has one outcome for nearly all of them. Listing every asset
 * id (and its license id) per outcome made a 4.8 MB record at 100,000 assets. The compact record instead
 * names members by their position in the requested dataset's canonical order (dataset_assets.position),
 * and the largest group lists no positions at all: it holds every member not listed in another group.
 * The license each asset was decided on is not stored here either; it is the asset's latest license
 * version recorded before the clearance (see resting.ts), which the clearance checked under the append
 * lock to be the one it evaluated.
 *
 * Records written before this format (an array of groups with asset and license ids) are still read.
 */
import { createHash } from 'node:crypto';
import { canonicalize } from '../audit/canonical-json.ts';
import { jsonSafe } from '../audit/event.ts';

export type DecisionReason = { policyId: string; reason: string };

/** One asset's decision. Outcomes of equal decisions share one (frozen) reasons array. */
export type AssetOutcome = { assetId: string; decision: 'allow' | 'deny'; reasons: DecisionReason[]; licenseId: string | null };

/** Earlier format: assets with the same decision and reasons; `licenseIds[i]` is the license `assetIds[i]` rested on. */
export type DecisionGroup = {
  decision: 'allow' | 'deny';
  reasons: DecisionReason[];
  assetIds: string[];
  licenseIds: (string | null)[];
};

/** Members with one outcome; `positions: null` is the group of every member not listed elsewhere. */
export type PositionGroup = { decision: 'allow' | 'deny'; reasons: DecisionReason[]; positions: number[] | null };

export type DecisionRecord = { format: 'positions/v1'; assetCount: number; groups: PositionGroup[] };

export type StoredDecisions = DecisionRecord | DecisionGroup[];

const outcomeKey = (o: { decision: string; reasons: readonly DecisionReason[] }) => `${o.decision}\u0000${o.reasons.map((r) => `${r.policyId}\u0001${r.reason}`).join('\u0000')}`;

/** `outcomes[i]` is the member at position i. */
export function compactDecisions(outcomes: readonly AssetOutcome[]): DecisionRecord {
  const groups = new Map<string, PositionGroup & { listed: number[] }>();
  // Outcomes share their reasons arrays (one per distinct Cedar decision): key each array once.
  const keys = new Map<readonly DecisionReason[], string>();
  outcomes.forEach((o, position) => {
    let key = keys.get(o.reasons);
    if (key === undefined) {
      key = outcomeKey(o);
      keys.set(o.reasons, key);
    }
    let g = groups.get(key);
    if (!g) {
      g = { decision: o.decision, reasons: o.reasons.map((r) => ({ policyId: r.policyId, reason: r.reason })), positions: null, listed: [] };
      groups.set(key, g);
    }
    g.listed.push(position);
  });
  let largest: (PositionGroup & { listed: number[] }) | undefined;
  for (const g of groups.values()) if (!largest || g.listed.length > largest.listed.length) largest = g;
  return {
    format: 'positions/v1',
    assetCount: outcomes.length,
    groups: [...groups.values()].map((g) => ({ decision: g.decision, reasons: g.reasons, positions: g === largest ? null : g.listed })),
  };
}

export function isDecisionRecord(stored: StoredDecisions): stored is DecisionRecord {
  return !Array.isArray(stored) && stored?.format === 'positions/v1';
}

/**
 * Every member's outcome, in member order. `members[i]` is the member at position i of the requested
 * dataset, with the license it was decided on (null: it had none).
 */
export function expandDecisions(record: DecisionRecord, members: readonly { assetId: string; licenseId: string | null }[]): AssetOutcome[] {
  if (members.length !== record.assetCount) throw new Error(`decision record covers ${record.assetCount} members, the dataset has ${members.length}`);
  const groupAt = new Array<PositionGroup | undefined>(members.length);
  let rest: PositionGroup | undefined;
  for (const g of record.groups) {
    if (g.positions === null) rest = g;
    else for (const p of g.positions) groupAt[p] = g;
  }
  return members.map((m, i) => {
    const g = groupAt[i] ?? rest;
    if (!g) throw new Error(`decision record has no outcome for member ${i}`);
    return { assetId: m.assetId, decision: g.decision, reasons: g.reasons, licenseId: m.licenseId };
  });
}

/** Earlier format: thousands of assets share few outcomes, grouped by identical (decision, reasons). */
export function groupOutcomes(outcomes: readonly AssetOutcome[]): DecisionGroup[] {
  const groups = new Map<string, DecisionGroup>();
  for (const o of outcomes) {
    const key = outcomeKey(o);
    let g = groups.get(key);
    if (!g) {
      g = { decision: o.decision, reasons: [...o.reasons], assetIds: [], licenseIds: [] };
      groups.set(key, g);
    }
    g.assetIds.push(o.assetId);
    g.licenseIds.push(o.licenseId);
  }
  return [...groups.values()];
}

export function expandGroups(groups: readonly DecisionGroup[]): AssetOutcome[] {
  return groups.flatMap((g) => g.assetIds.map((assetId, i) => ({ assetId, decision: g.decision, reasons: g.reasons, licenseId: g.licenseIds[i] ?? null })));
}

/**
 * SHA-256 of the RFC 8785 serialisation of the per-asset outcomes, written out for this one fixed shape
 * (keys already in JCS order; strings through JSON.stringify, which is JCS's string form): the generic
 * canonicaliser costs ~5 µs an asset, this a fraction. Each distinct reasons array is serialised and
 * UTF-8 encoded once (its bytes end every outcome that shares it); the bytes go through one reused buffer,
 * so no string the size of the record is built. test/unit/gate-digest.test.ts holds them equal.
 */
export function outcomesDigest(outcomes: readonly AssetOutcome[]): string {
  const hash = createHash('sha256');
  const tails = new Map<readonly DecisionReason[], Buffer>();
  const buf = Buffer.allocUnsafe(1 << 16);
  let at = 0;
  const flush = (): void => {
    hash.update(buf.subarray(0, at)); // copied into the hash state: the buffer can be reused
    at = 0;
  };
  const putBytes = (b: Buffer): void => {
    if (at + b.length > buf.length) flush();
    if (b.length > buf.length) hash.update(b);
    else at += b.copy(buf, at);
  };
  const putString = (s: string): void => {
    const most = s.length * 3; // UTF-8 bytes per UTF-16 code unit, at most
    if (at + most > buf.length) flush();
    if (most > buf.length) hash.update(s, 'utf8');
    else at += buf.write(s, at, 'utf8');
  };
  putString('[');
  outcomes.forEach((o, i) => {
    let tail = tails.get(o.reasons);
    if (tail === undefined) {
      const reasons = o.reasons.map((r) => `{"policyId":${JSON.stringify(r.policyId)},"reason":${JSON.stringify(r.reason)}}`).join(',');
      tail = Buffer.from(`,"reasons":[${reasons}]}`, 'utf8');
      tails.set(o.reasons, tail);
    }
    putString(
      `${i ? ',' : ''}{"assetId":${JSON.stringify(o.assetId)},"decision":${JSON.stringify(o.decision)},"licenseId":${o.licenseId === null ? 'null' : JSON.stringify(o.licenseId)}`,
    );
    putBytes(tail);
  });
  putString(']');
  flush();
  return hash.digest('hex');
}

/**
 * SHA-256 of the RFC 8785 serialisation of the stored record, as stored (JSON): the clearance's entry
 * states it, so a record edited in the table no longer matches its entry (audit/state-replay.ts).
 */
export function storedDecisionsSha256(stored: StoredDecisions | unknown): string {
  return createHash('sha256')
    .update(canonicalize(jsonSafe(stored)))
    .digest('hex');
}
