import { type SQL, sql } from 'drizzle-orm';
import { UNVERIFIED_MANIFEST_STATES } from '../assets/embedded-manifest-state.ts';
import type { Member } from '../datasets/digest.ts';
import type { Queryable } from '../db/database.ts';
import { queryRows, queryRowsPrepared } from '../db/database.ts';
import type { ApprovalFacts, AssetFacts, LicenseFacts } from './policy-input.ts';

type FactRow = {
  position: number;
  asset_id: string;
  sha256: string;
  production: string;
  c2pa_training_mining: AssetFacts['c2paTrainingMining'] | null;
  cawg_training_mining: AssetFacts['cawgTrainingMining'] | null;
  embedded_manifest_state: NonNullable<AssetFacts['embeddedManifest']>;
  license_id: string | null;
  /** The license (chain) the version belongs to. */
  chain_id: string | null;
  version: number | null;
  licensee: string | null;
  // jsonb and timestamps come as text: a studio's rows repeat a few dozen distinct values, so each
  // distinct text is parsed once (see Parsed) instead of once per row.
  vendors: string | null;
  grant_training: LicenseFacts['grants']['training'] | null;
  grant_derivatives: LicenseFacts['grants']['derivatives'] | null;
  grant_commercial: LicenseFacts['grants']['commercial'] | null;
  territories: string | null;
  media: string | null;
  base_model_families: string | null;
  term_start: string | null;
  term_end: string | null;
  revoked: boolean | null;
};

type ApprovalRow = { license_id: string; vendor: string; purpose: string; valid_from: string; valid_until: string };

/** Members with the facts the policies see; `members[i]` is the dataset's member at position i. */
export type DatasetFacts = { members: (Member & { position: number })[]; facts: AssetFacts[] };

/**
 * One row per member and license: the asset, the current version of each of its licenses (the one no
 * version supersedes: every new version supersedes its license's latest, see addLicenseVersion; a
 * set-based anti-join on the supersedes index, measured faster at 100,000 members than a lookup per asset
 * or DISTINCT ON) and whether it is revoked; a member with no license has one row without.
 * Instants are rendered as ISO 8601 UTC by the server, independent of the session's time zone.
 */
const factColumns = sql`a.production, a.c2pa_training_mining, a.cawg_training_mining,
  a.embedded_manifest_state,
  lv.id as license_id, lv.license_id as chain_id, lv.version, lv.licensee, lv.vendors::text as vendors, lv.grant_training, lv.grant_derivatives,
  lv.grant_commercial, lv.territories::text as territories, lv.media::text as media, lv.base_model_families::text as base_model_families,
  to_char(lv.term_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as term_start,
  to_char(lv.term_end at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as term_end,
  (r.id is not null) as revoked`;

const factJoins = sql`join assets a on a.id = m.asset_id
  left join license_versions lv on lv.asset_id = m.asset_id
    and not exists (select 1 from license_versions later where later.supersedes_id = lv.id)
  left join license_revocations r on r.license_id = lv.id`;

/** Approvals of one grant (training for the gate) on the license versions of the members (`m`). */
const approvalsOf = (members: SQL, grant: ApprovalGrant | 'commercial' = 'training') => sql`select la.license_id, la.vendor, la.purpose,
    to_char(la.valid_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as valid_from,
    to_char(la.valid_until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as valid_until
  from ${members}
  join license_versions lv on lv.asset_id = m.asset_id
  join license_approvals la on la.license_id = lv.id
  where la.grant = ${grant}`;

/**
 * What the policies see about each member of a dataset, read straight from dataset_assets by the dataset
 * id: two statements in all (facts, approvals), run side by side, whatever the dataset's size.
 */
export async function loadDatasetFacts(q: Queryable, datasetId: string): Promise<DatasetFacts> {
  const [rows, approvals] = await Promise.all([
    queryRows<FactRow>(q, sql`select m.position, m.asset_id, m.sha256, ${factColumns} from dataset_assets m ${factJoins} where m.dataset_id = ${datasetId}`),
    queryRows<ApprovalRow>(q, approvalsOf(sql`(select asset_id from dataset_assets where dataset_id = ${datasetId}) m`)),
  ]);
  // Positions are dense from 0: each row goes to its place, no sort needed (here or in the server).
  const grouped = byPosition(rows);
  const ordered = grouped.map((g) => g[0]!);
  const members = ordered.map((r) => ({ position: Number(r.position), assetId: r.asset_id, sha256: r.sha256 }));
  return { members, facts: toFacts(grouped, approvals, await overriddenAmong(q, ordered)) };
}

/** The grant whose approvals come with the facts: `training` for the gate, `derivatives` for an output's sources. */
export type ApprovalGrant = 'training' | 'derivatives';

export type FactOptions = {
  /** Also read the commercial grant's approvals (`commercialApprovals`): the availability search's commercial use. */
  commercialApprovals?: boolean;
};

/**
 * The same facts for members given by asset id (a preview of assets not in a dataset), in the order given.
 * The ids go as one array parameter (not one bind parameter each, which is slow to build and stops at 65,535).
 * `approvals` are those recorded for `grant` (training unless asked).
 */
export async function loadAssetFacts(q: Queryable, members: readonly Member[], grant: ApprovalGrant = 'training', options: FactOptions = {}): Promise<AssetFacts[]> {
  const ids = sql.param(members.map((m) => m.assetId));
  const byId = sql`(select asset_id, (p - 1)::int as position from unnest(${ids}::text[]) with ordinality as t(asset_id, p)) m`;
  const [rows, approvals, commercial] = await Promise.all([
    // Prepared: an output's sign asks this for its sources every time (the text is the same for any ids).
    queryRowsPrepared<FactRow>(q, sql`select m.position, m.asset_id, '' as sha256, ${factColumns} from ${byId} ${factJoins}`, 'gate_asset_facts'),
    queryRowsPrepared<ApprovalRow>(q, approvalsOf(byId, grant), 'gate_asset_approvals'),
    options.commercialApprovals ? queryRowsPrepared<ApprovalRow>(q, approvalsOf(byId, 'commercial'), 'gate_asset_approvals') : undefined,
  ]);
  const placed = byPosition(rows);
  const grouped = members.map((m, i) => {
    const g = placed[i];
    if (!g) throw new Error(`asset ${m.assetId} vanished`); // assets are append-only: cannot happen
    return g.map((r) => ({ ...r, sha256: m.sha256 }));
  });
  return toFacts(
    grouped,
    approvals,
    await overriddenAmong(
      q,
      grouped.map((g) => g[0]!),
    ),
    commercial,
  );
}

/** A page of the library: registration order (`seq`), optionally one production's or one rights holder's. */
export type LibraryScope = { after: number; limit: number; production?: string; rightsHolder?: string };

/** An asset of the library as its facts come with it: what a list shows of it, beside what the policies see. */
export type LibraryAsset = { seq: number; assetId: string; sha256: string; title: string; production: string; rightsHolder: string | null };

/**
 * The facts of the next `limit` assets of the library after `after` (by registration order), read with the
 * assets themselves: one statement for assets and licenses, then the approvals of that range (no list of ids
 * travels). For the availability search, which decides a whole library the way a clearance decides a dataset.
 */
export async function loadLibraryFacts(
  q: Queryable,
  scope: LibraryScope,
  grant: ApprovalGrant = 'training',
  options: FactOptions = {},
): Promise<{ assets: LibraryAsset[]; facts: AssetFacts[] }> {
  const production = scope.production ?? null;
  const holder = scope.rightsHolder ?? null;
  const inScope = sql`(${production}::text is null or s.production = ${production}::text) and (${holder}::text is null or s.rights_holder = ${holder}::text)`;
  const rows = await queryRows<FactRow & { seq: string | number; title: string; rights_holder: string | null }>(
    q,
    sql`with m as (
          select s.id as asset_id, s.seq, s.sha256, s.title, s.rights_holder, (row_number() over (order by s.seq) - 1)::int as position
          from assets s where s.seq > ${scope.after} and ${inScope} order by s.seq limit ${scope.limit})
        select m.position, m.asset_id, m.sha256, m.seq, m.title, m.rights_holder, ${factColumns} from m ${factJoins}`,
  );
  const grouped = byPosition(rows);
  const ordered = grouped.map((g) => g[0]!);
  if (ordered.length === 0) return { assets: [], facts: [] };
  // Every asset of the page lies in (after, last]; an asset registered in that range since is read too,
  // which adds approvals of a license no row has: they are matched by license id, so they change nothing.
  const last = Number(ordered[ordered.length - 1]!.seq);
  const range = sql`(select s.id as asset_id from assets s where s.seq > ${scope.after} and s.seq <= ${last} and ${inScope}) m`;
  const [approvals, commercial, overridden] = await Promise.all([
    queryRows<ApprovalRow>(q, approvalsOf(range, grant)),
    options.commercialApprovals ? queryRows<ApprovalRow>(q, approvalsOf(range, 'commercial')) : undefined,
    overriddenAmong(q, ordered),
  ]);
  return {
    assets: ordered.map((r) => ({ seq: Number(r.seq), assetId: r.asset_id, sha256: r.sha256, title: r.title, production: r.production, rightsHolder: r.rights_holder })),
    facts: toFacts(grouped, approvals, overridden, commercial),
  };
}

/**
 * The assets among the rows that legal has overridden. Only art whose own manifest cannot be validated can
 * have an override, so the statement runs only when some row is such art: the sign path's sources (and most
 * datasets) read nothing more than before.
 */
async function overriddenAmong(q: Queryable, rows: readonly FactRow[]): Promise<ReadonlySet<string>> {
  const ids = rows.filter((r) => UNVERIFIED_MANIFEST_STATES.includes(r.embedded_manifest_state)).map((r) => r.asset_id);
  if (ids.length === 0) return NO_OVERRIDES;
  const found = await queryRowsPrepared<{ asset_id: string }>(
    q,
    sql`select asset_id from asset_embedded_overrides where asset_id = any(${sql.param(ids)}::text[])`,
    'gate_asset_overrides',
  );
  return new Set(found.map((r) => r.asset_id));
}

const NO_OVERRIDES: ReadonlySet<string> = new Set();

/**
 * The rows of each member position, one per license, in license id order (a stable order for the
 * policies' several decisions, gate/several-licenses.ts); should a broken version chain give a license two
 * rows, the higher version wins.
 */
function byPosition<R extends FactRow>(rows: readonly R[]): R[][] {
  const out: R[][] = [];
  for (const r of rows) {
    const position = Number(r.position);
    const seen = out[position];
    if (!seen) {
      out[position] = [r];
      continue;
    }
    const same = seen.findIndex((s) => s.chain_id === r.chain_id);
    if (same >= 0) {
      if (Number(r.version ?? -1) > Number(seen[same]!.version ?? -1)) seen[same] = r;
    } else {
      seen.push(r);
      seen.sort((a, b) => byText(a.chain_id, b.chain_id));
    }
  }
  return out;
}

const byText = (a: string | null, b: string | null) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0);

/** Parses each distinct text once; the same text gives the same (frozen) value. */
class Parsed {
  private readonly seen = new Map<string, unknown>();
  json<T>(text: string | null): T | null {
    if (text === null) return null;
    let v = this.seen.get(text);
    if (v === undefined) {
      v = Object.freeze(JSON.parse(text));
      this.seen.set(text, v);
    }
    return v as T;
  }
}

function byLicense(approvalRows: readonly ApprovalRow[]): Map<string, ApprovalFacts[]> {
  const approvals = new Map<string, ApprovalFacts[]>();
  for (const a of approvalRows) {
    const list = approvals.get(a.license_id) ?? [];
    list.push({ vendor: a.vendor, purpose: a.purpose, validFrom: a.valid_from, validUntil: a.valid_until });
    approvals.set(a.license_id, list);
  }
  return approvals;
}

function toFacts(groups: readonly FactRow[][], approvalRows: readonly ApprovalRow[], overridden: ReadonlySet<string>, commercialRows?: readonly ApprovalRow[]): AssetFacts[] {
  const approvals = byLicense(approvalRows);
  const commercial = commercialRows ? byLicense(commercialRows) : undefined;
  const parsed = new Parsed();
  const none: ApprovalFacts[] = [];
  const licenseOf = (r: FactRow): LicenseFacts | null =>
    r.license_id
      ? {
          id: r.license_id,
          version: Number(r.version),
          revoked: Boolean(r.revoked),
          // the latest version is by definition not superseded; the policy stays as a guard
          superseded: false,
          licensee: r.licensee!,
          vendors: parsed.json<string[]>(r.vendors) ?? [],
          grants: { training: r.grant_training!, derivatives: r.grant_derivatives!, commercial: r.grant_commercial! },
          termStart: r.term_start ?? '',
          termEnd: r.term_end ?? '',
          territories: parsed.json<string[]>(r.territories) ?? [],
          media: parsed.json<string[]>(r.media) ?? [],
          baseModelFamilies: parsed.json<string[]>(r.base_model_families),
        }
      : null;
  return groups.map((group) => {
    const r = group[0]!;
    const license = licenseOf(r);
    const others = group.slice(1).map((o) => {
      const l = licenseOf(o)!;
      return {
        license: l,
        approvals: approvals.get(l.id) ?? none,
        ...(commercial ? { commercialApprovals: commercial.get(l.id) ?? none } : {}),
      };
    });
    return {
      assetId: r.asset_id,
      sha256: r.sha256,
      production: r.production,
      ...(r.c2pa_training_mining ? { c2paTrainingMining: r.c2pa_training_mining } : {}),
      ...(r.cawg_training_mining ? { cawgTrainingMining: r.cawg_training_mining } : {}),
      embeddedManifest: r.embedded_manifest_state,
      embeddedOverride: overridden.has(r.asset_id),
      license,
      approvals: license ? (approvals.get(license.id) ?? none) : none,
      ...(commercial ? { commercialApprovals: license ? (commercial.get(license.id) ?? none) : none } : {}),
      ...(others.length > 0 ? { otherLicenses: others } : {}),
    };
  });
}
