import { eq, sql } from 'drizzle-orm';
import { contentOf, type StateProjection, type StoredRow, timeOf } from '../audit/state-check.ts';
import { joinKey, tableProjection } from '../audit/state-rows.ts';
import { type Queryable, queryRows } from '../db/database.ts';
import { storedDecisionsSha256 } from './decision-record.ts';
import { clearances, policySets } from './tables.ts';

/** What the gate's decisions and the standing of its clearances read, as the log's events state it (audit/state-replay.ts). */
export function gateProjections(q: Queryable): StateProjection[] {
  return [
    tableProjection(q, clearances, {
      name: 'clearances',
      index: clearances.auditIndex,
      key: (r) => r.id,
      byKey: (k) => eq(clearances.id, k),
      derive: (r) => ({ assetDecisions: storedDecisionsSha256(r.assetDecisions) }),
      expect(event) {
        if (event.action !== 'clearance.granted' && event.action !== 'clearance.denied') return [];
        const c = contentOf(event);
        const counts = (c.counts ?? {}) as { allowed?: number; denied?: number };
        return [
          {
            key: String(c.id),
            values: {
              id: c.id,
              decision: c.decision,
              vendor: c.vendor,
              purpose: c.purpose,
              baseModel: c.baseModel,
              datasetId: c.datasetId,
              requestedDatasetId: c.requestedDatasetId,
              mode: c.mode,
              datasetDigest: c.datasetDigest,
              policyDigest: c.policyDigest,
              decisionsDigest: c.decisionsDigest,
              allowedCount: counts.allowed,
              deniedCount: counts.denied,
              expiresAt: timeOf(c.expiresAt),
              // Stated by entries written since the replay check exists; earlier ones do not say them.
              issuedAt: timeOf(c.issuedAt),
              tokenKid: c.tokenKid,
              assetDecisions: c.assetDecisionsSha256,
              createdBy: event.actor.sub,
              auditIndex: event.index,
            },
          },
        ];
      },
    }),
    restingLicensesProjection(q),
    tableProjection(q, policySets, {
      name: 'policy_sets',
      index: policySets.auditIndex,
      key: (r) => r.digest,
      byKey: (k) => eq(policySets.digest, k),
      expect(event) {
        if (event.action !== 'policy-set.loaded') return [];
        const c = contentOf(event);
        return [{ key: String(c.digest), values: { digest: c.digest, policies: c.policies, firstLoadedAt: new Date(event.time), auditIndex: event.index } }];
      },
    }),
  ];
}

type RestingRow = { clearance_id: string; license_id: string; asset_count: number; idx: string | number | null };

/**
 * clearance_licenses: written only by clearances recorded before resting licenses were derived, whose
 * entries list them (`licenses`); a row for any other clearance would replace what its standing rests on.
 * A row takes the index of its clearance's entry.
 */
function restingLicensesProjection(q: Queryable): StateProjection {
  const select = (where: ReturnType<typeof sql>) =>
    sql`select cl.clearance_id, cl.license_id, cl.asset_count, c.audit_index as idx
        from clearance_licenses cl left join clearances c on c.id = cl.clearance_id
        where ${where} order by c.audit_index`;
  const toStored = (r: RestingRow): StoredRow => ({
    index: r.idx === null ? null : Number(r.idx),
    key: joinKey(r.clearance_id, r.license_id),
    values: { clearanceId: r.clearance_id, licenseId: r.license_id, assetCount: Number(r.asset_count) },
  });
  return {
    table: 'clearance_licenses',
    expect(event) {
      if (event.action !== 'clearance.granted' && event.action !== 'clearance.denied') return [];
      const c = contentOf(event);
      const listed = Array.isArray(c.licenses) ? (c.licenses as { licenseId: string; assetCount: number }[]) : [];
      return listed.map((l) => ({ key: joinKey(String(c.id), l.licenseId), values: { clearanceId: c.id, licenseId: l.licenseId, assetCount: l.assetCount } }));
    },
    async read(range) {
      const where =
        'outside' in range
          ? sql`(c.id is null or c.audit_index is null or c.audit_index < 0 or c.audit_index >= ${range.outside})`
          : sql`c.audit_index >= ${range.from} and c.audit_index < ${range.to}`;
      return (await queryRows<RestingRow>(q, select(where))).map(toStored);
    },
    async find(key) {
      const [clearanceId, licenseId] = key.split('/');
      const [row] = await queryRows<RestingRow>(q, select(sql`cl.clearance_id = ${clearanceId} and cl.license_id = ${licenseId}`));
      return row ? toStored(row) : undefined;
    },
    columnName: (c) => ({ clearanceId: 'clearance_id', licenseId: 'license_id', assetCount: 'asset_count' })[c] ?? c,
  };
}
