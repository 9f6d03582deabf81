import { eq, sql } from 'drizzle-orm';
import { contentOf, entryExpect, type StateProjection, type StoredRow } from '../audit/state-check.ts';
import { tableProjection } from '../audit/state-rows.ts';
import { type Queryable, queryRows } from '../db/database.ts';
import { datasetDigest } from './digest.ts';
import { datasets } from './tables.ts';

/** Every member's hash equals its asset's: what the members check says when none differs. */
const EVERY_MEMBER = 'every member';

/** What the gate reads of datasets, as the log's events state it (audit/state-replay.ts). */
export function datasetProjections(q: Queryable): StateProjection[] {
  return [
    tableProjection(q, datasets, {
      name: 'datasets',
      index: datasets.auditIndex,
      key: (r) => r.id,
      byKey: (k) => eq(datasets.id, k),
      expect(event) {
        if (event.action !== 'dataset.created') return [];
        const c = contentOf(event);
        return [
          {
            key: String(c.id),
            values: { id: c.id, name: c.name, digest: c.digest, assetCount: c.assetCount, parentId: c.parentId, ownerVendor: c.ownerVendor, ...entryExpect(event) },
          },
        ];
      },
    }),
    membersProjection(q),
  ];
}

type MembersRow = {
  dataset_id: string;
  idx: string | number | null;
  rows: string | number;
  first_position: number | null;
  last_position: number | null;
  sha256s: string[] | null;
  ids_digest: string;
  differs_at: number | null;
};

/**
 * dataset_assets, one row per dataset: the event commits to the membership by the digest of the members'
 * hashes (the dataset digest) and the digest of their ids in order (assetIdsDigest), not by listing
 * 100,000 ids; the members are compared with both, and each member's hash with its asset's.
 */
function membersProjection(q: Queryable): StateProjection {
  const select = (where: ReturnType<typeof sql>, orphans = false) => sql`
    select coalesce(d.id, da.dataset_id) as dataset_id, d.audit_index as idx,
      count(da.position) as rows, min(da.position) as first_position, max(da.position) as last_position,
      array_agg(da.sha256 order by da.position) filter (where da.position is not null) as sha256s,
      encode(sha256(convert_to(coalesce(string_agg(da.asset_id, E'\\n' order by da.position), ''), 'UTF8')), 'hex') as ids_digest,
      min(da.position) filter (where a.sha256 is distinct from da.sha256) as differs_at
    from ${orphans ? sql`dataset_assets da left join datasets d on d.id = da.dataset_id` : sql`datasets d left join dataset_assets da on da.dataset_id = d.id`}
    left join assets a on a.id = da.asset_id
    where ${where}
    group by coalesce(d.id, da.dataset_id), d.audit_index
    order by d.audit_index`;
  const toStored = (r: MembersRow): StoredRow => {
    const n = Number(r.rows);
    const sha256s = r.sha256s ?? [];
    return {
      index: r.idx === null ? null : Number(r.idx),
      key: r.dataset_id,
      values: {
        sha256: r.differs_at === null ? EVERY_MEMBER : `position ${r.differs_at} differs from its asset's`,
        position: n === 0 ? '' : `${r.first_position}..${r.last_position}`,
        rows: n,
        asset_id: r.ids_digest,
        'sha256 (dataset digest)': datasetDigest(sha256s.map((sha256) => ({ assetId: '', sha256 }))),
      },
    };
  };
  return {
    table: 'dataset_assets',
    expect(event) {
      if (event.action !== 'dataset.created') return [];
      const c = contentOf(event);
      const n = Number(c.assetCount);
      return [
        {
          key: String(c.id),
          values: {
            sha256: EVERY_MEMBER,
            position: n === 0 ? '' : `0..${n - 1}`,
            rows: n,
            asset_id: c.assetIdsDigest,
            'sha256 (dataset digest)': c.digest,
          },
        },
      ];
    },
    async read(range) {
      const where =
        'outside' in range
          ? sql`(d.id is null or d.audit_index is null or d.audit_index < 0 or d.audit_index >= ${range.outside})`
          : sql`d.audit_index >= ${range.from} and d.audit_index < ${range.to}`;
      // Members of no dataset, or of one that claims no entry, are read from the members' side.
      return (await queryRows<MembersRow>(q, select(where, 'outside' in range))).map(toStored);
    },
    async find(key) {
      const [row] = await queryRows<MembersRow>(q, select(sql`da.dataset_id = ${key}`, true));
      return row ? toStored(row) : undefined;
    },
  };
}
