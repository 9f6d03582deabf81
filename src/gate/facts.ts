import { and, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../db/database.ts';
import { queryRows } from '../db/database.ts';
import type { Member } from '../datasets/digest.ts';
import { licenseApprovals } from '../licenses/tables.ts';
import type { ApprovalFacts, AssetFacts, LicenseFacts } from './policy-input.ts';

const CHUNK = 20_000;

type FactRow = {
  asset_id: string;
  production: string;
  c2pa_training_mining: AssetFacts['c2paTrainingMining'] | null;
  cawg_training_mining: AssetFacts['cawgTrainingMining'] | null;
  license_id: string | null;
  version: number | null;
  licensee: string | null;
  vendors: string[] | string | null;
  grant_training: LicenseFacts['grants']['training'] | null;
  grant_derivatives: LicenseFacts['grants']['derivatives'] | null;
  grant_commercial: LicenseFacts['grants']['commercial'] | null;
  territories: string[] | string | null;
  media: string[] | string | null;
  base_model_families: string[] | string | null;
  term_start: Date | string | null;
  term_end: Date | string | null;
  revoked: boolean | null;
};

const json = <T>(v: T | string | null): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
const iso = (v: Date | string | null) => (v === null ? '' : new Date(v).toISOString());

/**
 * What the policies see about each member: the asset, its current (latest) license version with its
 * revocation, and the approvals recorded on that version. Loaded in chunks, a handful of queries in all,
 * and license objects are shared between assets so the engine can deduplicate cheaply.
 */
export async function loadAssetFacts(q: Queryable, members: readonly Member[]): Promise<AssetFacts[]> {
  const byAsset = new Map<string, FactRow>();
  // One statement, the ids as one array parameter: no per-id parameters to send or parse.
  const rows = await queryRows<FactRow>(
    q,
    sql`select a.id as asset_id, a.production, a.c2pa_training_mining, a.cawg_training_mining,
               lv.id as license_id, lv.version, lv.licensee, lv.vendors, lv.grant_training, lv.grant_derivatives,
               lv.grant_commercial, lv.territories, lv.media, lv.base_model_families, lv.term_start, lv.term_end,
               (r.id is not null) as revoked
        from assets a
        left join lateral (
          select * from license_versions v where v.asset_id = a.id order by v.version desc limit 1
        ) lv on true
        left join license_revocations r on r.license_id = lv.id
        where a.id = any(${sql.param(members.map((m) => m.assetId))}::text[])`,
  );
  for (const r of rows) byAsset.set(r.asset_id, r);

  const licenseIds = [...new Set([...byAsset.values()].map((r) => r.license_id).filter((id): id is string => id !== null))];
  const approvals = new Map<string, ApprovalFacts[]>();
  for (let i = 0; i < licenseIds.length; i += CHUNK) {
    const rows = await q
      .select()
      .from(licenseApprovals)
      .where(and(eq(licenseApprovals.grant, 'training'), sql`${licenseApprovals.licenseId} = any(${sql.param(licenseIds.slice(i, i + CHUNK))}::text[])`));
    for (const a of rows) {
      const list = approvals.get(a.licenseId) ?? [];
      list.push({ vendor: a.vendor, purpose: a.purpose, validFrom: a.validFrom.toISOString(), validUntil: a.validUntil.toISOString() });
      approvals.set(a.licenseId, list);
    }
  }

  const licenses = new Map<string, LicenseFacts>();
  const licenseFacts = (r: FactRow): LicenseFacts | null => {
    if (!r.license_id) return null;
    let facts = licenses.get(r.license_id);
    if (!facts) {
      facts = {
        id: r.license_id,
        version: Number(r.version),
        revoked: Boolean(r.revoked),
        // the latest version is by definition not superseded; the policy stays as a guard
        superseded: false,
        licensee: r.licensee!,
        vendors: json<string[]>(r.vendors) ?? [],
        grants: { training: r.grant_training!, derivatives: r.grant_derivatives!, commercial: r.grant_commercial! },
        termStart: iso(r.term_start),
        termEnd: iso(r.term_end),
        territories: json<string[]>(r.territories) ?? [],
        media: json<string[]>(r.media) ?? [],
        baseModelFamilies: json<string[]>(r.base_model_families),
      };
      licenses.set(r.license_id, facts);
    }
    return facts;
  };

  return members.map((m) => {
    const r = byAsset.get(m.assetId);
    if (!r) throw new Error(`asset ${m.assetId} vanished`); // assets are append-only: cannot happen
    const license = licenseFacts(r);
    return {
      assetId: m.assetId,
      sha256: m.sha256,
      production: r.production,
      ...(r.c2pa_training_mining ? { c2paTrainingMining: r.c2pa_training_mining } : {}),
      ...(r.cawg_training_mining ? { cawgTrainingMining: r.cawg_training_mining } : {}),
      license,
      approvals: license ? (approvals.get(license.id) ?? []) : [],
    };
  });
}
