import { eq } from 'drizzle-orm';
import { contentOf, entryExpect, type StateProjection, timeOf } from '../audit/state-check.ts';
import { tableProjection } from '../audit/state-rows.ts';
import type { Queryable } from '../db/database.ts';
import { licenseApprovals, licenseRevocations, licenseVersions } from './tables.ts';

/** What the gate reads of licenses, as the log's events state it (audit/state-replay.ts). */
export function licenseProjections(q: Queryable): StateProjection[] {
  return [
    tableProjection(q, licenseVersions, {
      name: 'license_versions',
      index: licenseVersions.auditIndex,
      key: (r) => r.id,
      byKey: (k) => eq(licenseVersions.id, k),
      expect(event) {
        if (event.action !== 'license.granted' && event.action !== 'license.amended') return [];
        const c = contentOf(event);
        return [
          {
            key: String(c.id),
            values: {
              id: c.id,
              assetId: c.assetId,
              // Entries written before licenses were chains do not state it: a first version is its own
              // license, a later one was backfilled to its asset's first (migrations/0020).
              ...(c.licenseId !== undefined ? { licenseId: c.licenseId } : c.supersedesId === null ? { licenseId: c.id } : {}),
              version: c.version,
              supersedesId: c.supersedesId,
              licensor: c.licensor,
              licensee: c.licensee,
              vendors: c.vendors,
              grantTraining: c.grantTraining,
              grantDerivatives: c.grantDerivatives,
              grantCommercial: c.grantCommercial,
              territories: c.territories,
              media: c.media,
              baseModelFamilies: c.baseModelFamilies,
              termStart: timeOf(c.termStart),
              termEnd: timeOf(c.termEnd),
              exclusivity: c.exclusivity,
              attribution: c.attribution,
              contractRefId: c.contractRefId,
              contractRefSha256: c.contractRefSha256,
              ...entryExpect(event),
            },
          },
        ];
      },
    }),
    tableProjection(q, licenseRevocations, {
      name: 'license_revocations',
      index: licenseRevocations.auditIndex,
      key: (r) => r.id,
      byKey: (k) => eq(licenseRevocations.id, k),
      expect(event) {
        if (event.action !== 'license.revoked') return [];
        const c = contentOf(event);
        return [
          {
            key: String(c.revocationId),
            values: { id: c.revocationId, licenseId: c.licenseId, reason: c.reason, revokedAt: new Date(event.time), revokedBy: event.actor.sub, auditIndex: event.index },
          },
        ];
      },
    }),
    tableProjection(q, licenseApprovals, {
      name: 'license_approvals',
      index: licenseApprovals.auditIndex,
      key: (r) => r.id,
      byKey: (k) => eq(licenseApprovals.id, k),
      expect(event) {
        if (event.action !== 'license.approval-recorded') return [];
        const c = contentOf(event);
        return [
          {
            key: String(c.id),
            values: {
              id: c.id,
              licenseId: c.licenseId,
              grant: c.grant,
              vendor: c.vendor,
              purpose: c.purpose,
              validFrom: timeOf(c.validFrom),
              validUntil: timeOf(c.validUntil),
              note: c.note,
              ...entryExpect(event),
            },
          },
        ];
      },
    }),
  ];
}
