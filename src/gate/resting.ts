import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { type Queryable, queryRows, queryTextPrepared } from '../db/database.ts';
import type { RestingLicense } from './standing.ts';

/**
 * The license versions an allowed clearance rests on, one row each: clearance_id, license_id, asset_id,
 * version, term_end, asset_count.
 *
 * Clearances recorded before this change listed them in clearance_licenses (one row per license, i.e. per
 * asset: 100,000 rows, and seconds of writing under the append lock, for a large dataset). Newer ones
 * write none: an allowed clearance rests on, for each member of its cleared dataset, the asset's latest
 * license version recorded before the clearance's own audit entry. That is the version it evaluated: the
 * clearance is recorded only after checking, under the append lock, that no license version, revocation
 * or approval touching its assets was recorded since its facts were read (service.ts).
 *
 * An asset may carry several licenses (each its own chain of versions, `chain_id` its license id): the
 * clearance rests on the latest version of each that names the clearance's vendor (licensee or vendors),
 * the only ones that can have allowed it; the production's license does not fall with a merchandiser's.
 *
 * Use as a subquery, `(${restingLicenseRows}) rl`, filtered on clearance_id or asset_id: PostgreSQL pushes
 * such filters into both branches.
 */
export const restingLicenseRows = sql`
  select cl.clearance_id, cl.license_id, lv.license_id as chain_id, lv.asset_id, lv.version, lv.term_end, cl.asset_count
  from clearance_licenses cl
  join license_versions lv on lv.id = cl.license_id
  union all
  select c.id as clearance_id, lv.id as license_id, lv.license_id as chain_id, lv.asset_id, lv.version, lv.term_end, 1 as asset_count
  from clearances c
  join dataset_assets da on da.dataset_id = c.dataset_id
  join license_versions lv on lv.asset_id = da.asset_id and lv.audit_index < c.audit_index
  where c.decision = 'allow'
    and not exists (select 1 from clearance_licenses old where old.clearance_id = c.id)
    and not exists (
      select 1 from license_versions later
      where later.license_id = lv.license_id and later.version > lv.version and later.audit_index < c.audit_index
    )
    and (lv.licensee = c.vendor or lv.vendors @> jsonb_build_array(c.vendor))`;

/** A row of restingLicensesText: snake_case as PostgreSQL names them; times as Date or as JSON text. */
export type RestingLicenseRow = {
  clearance_id: string;
  license_id: string;
  asset_id: string;
  asset_count: number | string;
  term_end: Date | string;
  revoked_license_id: string | null;
  revoked_at: Date | string | null;
  reason: string | null;
};

/** The same order in a statement and in a JSON aggregate of its rows (`f`): per license, the earliest revocation first. */
export const RESTING_LICENSES_ORDER = 'clearance_id, license_id, revoked_at nulls last';

let restingRowsText: string | undefined;

/**
 * Statement text: the license versions the clearances in `clearanceIds` (a text[] parameter, e.g. '$1')
 * rest on, each with its earliest revocation (of itself or of a later version of its license), unordered. With
 * `failingAt` (a timestamptz parameter), only those revoked or ended by then: all that clearanceStanding
 * counts, so a clearance over 100,000 assets answers with the few that fell, not all of them.
 */
export function restingLicensesText(clearanceIds: string, failingAt?: string): string {
  restingRowsText ??= new PgDialect().sqlToQuery(restingLicenseRows).sql;
  return `select rl.clearance_id, rl.license_id, rl.asset_id, rl.asset_count, rl.term_end,
               r.license_id as revoked_license_id, r.revoked_at, r.reason
        from (${restingRowsText}) rl
        left join license_versions later on later.license_id = rl.chain_id and later.version >= rl.version
        left join license_revocations r on r.license_id = later.id
        where rl.clearance_id = any(${clearanceIds}::text[])${
          failingAt
            ? `
          and (r.revoked_at <= ${failingAt} or rl.term_end <= ${failingAt})`
            : ''
        }`;
}

/** Rows of restingLicensesText in RESTING_LICENSES_ORDER, per clearance: one per license, its earliest revocation. */
export function groupRestingLicenses(rows: readonly RestingLicenseRow[]): Map<string, RestingLicense[]> {
  const out = new Map<string, RestingLicense[]>();
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.clearance_id}/${r.license_id}`;
    if (seen.has(key)) continue; // the earliest revocation (or none) came first
    seen.add(key);
    const list = out.get(r.clearance_id) ?? [];
    list.push({
      licenseId: r.license_id,
      assetId: r.asset_id,
      assetCount: Number(r.asset_count),
      termEnd: new Date(r.term_end),
      revocation: r.revoked_license_id ? { licenseId: r.revoked_license_id, at: new Date(r.revoked_at!), reason: r.reason } : null,
    });
    out.set(r.clearance_id, list);
  }
  return out;
}

let restingLicensesStatement: string | undefined;

/** Every license version each clearance rests on, with its revocation if any (see restingLicensesText). */
export async function restingLicenses(q: Queryable, clearanceIds: string[]): Promise<Map<string, RestingLicense[]>> {
  if (clearanceIds.length === 0) return new Map();
  restingLicensesStatement ??= `${restingLicensesText('$1')} order by ${RESTING_LICENSES_ORDER}`;
  // Prepared: one round trip and a cached plan.
  return groupRestingLicenses(await queryTextPrepared<RestingLicenseRow>(q, restingLicensesStatement, [clearanceIds], 'resting_licenses'));
}

/**
 * Each member of a compactly recorded clearance's requested dataset, in member order, with the license
 * version it was decided on (its latest before the clearance's audit entry; null: it had none). Of several
 * licenses, the first in license id order that names the clearance's vendor, else the first: the engine's
 * choice (gate/several-licenses.ts) wherever one license names the vendor.
 */
export async function licensesAtClearance(
  q: Queryable,
  c: { requestedDatasetId: string; auditIndex: number; vendor: string },
): Promise<{ assetId: string; licenseId: string | null }[]> {
  const rows = await queryRows<{ position: number; asset_id: string; license_id: string | null; chain_id: string | null; names_vendor: boolean | null }>(
    q,
    sql`select da.position, da.asset_id, lv.id as license_id, lv.license_id as chain_id,
               (lv.licensee = ${c.vendor} or lv.vendors @> jsonb_build_array(${c.vendor}::text)) as names_vendor
        from dataset_assets da
        left join license_versions lv on lv.asset_id = da.asset_id and lv.audit_index < ${c.auditIndex}
          and not exists (
            select 1 from license_versions later
            where later.license_id = lv.license_id and later.version > lv.version and later.audit_index < ${c.auditIndex}
          )
        where da.dataset_id = ${c.requestedDatasetId}`,
  );
  const members: { assetId: string; licenseId: string | null }[] = [];
  const chosen: { chain: string; named: boolean }[] = [];
  for (const r of rows) {
    const p = Number(r.position);
    const named = Boolean(r.names_vendor);
    const seen = chosen[p];
    // Prefer a license naming the vendor, then the lower license id.
    if (seen && ((seen.named && !named) || (seen.named === named && seen.chain <= (r.chain_id ?? '')))) continue;
    chosen[p] = { chain: r.chain_id ?? '', named };
    members[p] = { assetId: r.asset_id, licenseId: r.license_id };
  }
  return members;
}
