import type { Principal, TokenVerifier } from '../auth/tokens.ts';
import type { Database } from '../db/database.ts';
import { loadLibraryFacts } from '../gate/facts.ts';
import type { AssetFacts } from '../gate/policy-input.ts';
import type { PolicyRegistry } from '../gate/policy-registry.ts';
import { vendorFor } from '../gate/service.ts';
import { problems } from '../http/problem.ts';
import { type AvailPurpose, type AvailReason, approvalsFor, availReasons, gateRequestFor, type ProposedUse } from './reasons.ts';
import type { FromAvailsInput } from './schemas.ts';

/** What the availability search needs from the running service: the gate's policy set, read-only. */
export type AvailsDeps = { database: Database; policies: PolicyRegistry; verifyToken: TokenVerifier };

export type AvailStatus = 'available' | 'unavailable';

export type AvailItem = {
  assetId: string;
  title: string;
  production: string;
  rightsHolder: string | null;
  licenseId: string | null;
  status: AvailStatus;
  reasons: AvailReason[];
};

export type AvailsSearch = {
  use: ProposedUse;
  production?: string;
  rightsHolder?: string;
  status?: AvailStatus;
  /**
   * A vendor's own search: only the art a current license of which names this vendor (licensee or among its
   * vendors). The rest of the studio's library is not the vendor's to see, as GET /v1/assets is not.
   */
  visibleTo?: string;
  /** The seq of the last asset of the previous page. */
  after?: number;
  limit: number;
  /** Assets read and decided at a time (default SCAN_BATCH; smaller in tests, to cross batches). */
  scanBatch?: number;
};

/**
 * Assets are read and decided this many at a time: one fact read (two or three statements) and one engine
 * call per batch, as a clearance decides its dataset, with memory bounded whatever the library's size (two
 * batches at most: one decided, the next read). Each read scans the license versions once for the current
 * ones, so fewer, larger batches: 100,000 a batch answered a library of 100,001 in 2.76 s against 3.33 s by
 * 25,000 (docs/benchmarks.md).
 */
export const SCAN_BATCH = 100_000;

/** The proposed use of a query: the vendor as a clearance would take it (a vendor token speaks for itself). */
export function proposedUse(
  principal: Principal,
  q: { purpose: AvailPurpose; vendor?: string; baseModel: string; date?: string; territory?: string; media?: string },
): ProposedUse {
  const vendor = vendorFor(principal, q.vendor);
  const at = (q.date ? new Date(q.date) : new Date()).toISOString();
  return { purpose: q.purpose, vendor, baseModel: q.baseModel, at, ...(q.territory ? { territory: q.territory } : {}), ...(q.media ? { media: q.media } : {}) };
}

/**
 * One page of the library, oldest registration first, each asset available or not for the use, decided by
 * the policy set in force (one set for the whole page) through the gate's batch path: the gate's facts
 * (gate/facts.ts loadLibraryFacts: its columns, joins and rows-to-facts) and PolicySet.evaluate, as a
 * clearance decides its dataset. With `status`, batches are decided until the page is full.
 */
export async function searchAvails(deps: AvailsDeps, search: AvailsSearch): Promise<{ policyDigest: string; items: AvailItem[]; nextCursor: string | null }> {
  const db = deps.database.db;
  const policySet = deps.policies.current;
  const request = gateRequestFor(search.use);
  const { grant, commercial } = approvalsFor(search.use.purpose);
  // Without a status every row read is on the page: one more than the page tells whether another follows.
  const filtered = search.status !== undefined || search.visibleTo !== undefined;
  const scan = search.scanBatch ?? SCAN_BATCH;
  const batch = Math.min(filtered ? scan : search.limit + 1, scan);
  const vendor = search.visibleTo;
  const items: AvailItem[] = [];
  const load = (after: number) =>
    loadLibraryFacts(db, { after, limit: batch, production: search.production, rightsHolder: search.rightsHolder }, grant, { commercialApprovals: commercial });
  // Another batch may be needed when a filter drops rows or the page is larger than a batch.
  const mayNeedMore = filtered || search.limit + 1 > batch;
  let lastSeq = 0;
  let loading = load(search.after ?? 0);
  for (;;) {
    const { assets: rows, facts } = await loading;
    if (rows.length === 0) return { policyDigest: policySet.digest, items, nextCursor: null };
    // The next batch is read while this one is decided: the database works while this thread evaluates.
    const more = rows.length === batch;
    if (more && mayNeedMore) {
      loading = load(rows[rows.length - 1]!.seq);
      loading.catch(() => {}); // awaited on the next turn, unless this page is full first
    }
    const decisions = policySet.evaluate(request, facts);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const d = decisions[i]!;
      const status: AvailStatus = d.decision === 'allow' ? 'available' : 'unavailable';
      if (search.status && status !== search.status) continue;
      if (vendor !== undefined && !namesVendor(facts[i]!, vendor)) continue;
      // A further match: the page is full and another follows.
      if (items.length === search.limit) return { policyDigest: policySet.digest, items, nextCursor: String(lastSeq) };
      items.push({
        assetId: row.assetId,
        title: row.title,
        production: row.production,
        rightsHolder: row.rightsHolder,
        licenseId: d.licenseId,
        status,
        reasons: status === 'available' ? [] : availReasons(d.reasons),
      });
      lastSeq = row.seq;
    }
    if (!more) return { policyDigest: policySet.digest, items, nextCursor: null };
    if (!mayNeedMore) loading = load(rows[rows.length - 1]!.seq);
  }
}

/** Whether any current license of the asset names the vendor (licensee or among its vendors). */
function namesVendor(facts: AssetFacts, vendor: string): boolean {
  const licenses = [facts.license, ...(facts.otherLicenses ?? []).map((o) => o.license)];
  return licenses.some((l) => l && (l.licensee === vendor || l.vendors.includes(vendor)));
}

/**
 * Every asset available for a `fromAvails` selection, for a dataset to freeze: 422 when none is, or more than
 * a dataset may hold.
 */
export async function availableAssetIds(deps: AvailsDeps, principal: Principal, from: FromAvailsInput, max: number): Promise<string[]> {
  const { production, rightsHolder, ...asked } = from;
  const use = proposedUse(principal, asked);
  // Available art names the vendor on its license: a vendor's own selection needs no further filter.
  const page = await searchAvails(deps, { use, production, rightsHolder, status: 'available', limit: max });
  if (page.nextCursor !== null)
    throw problems.validation(`more than ${max} assets are available for this use: narrow it`, [{ field: 'fromAvails', message: `more than ${max} assets` }]);
  if (page.items.length === 0) throw problems.validation('no asset is available for this use', [{ field: 'fromAvails', message: 'no asset is available for this use' }]);
  return page.items.map((i) => i.assetId);
}
