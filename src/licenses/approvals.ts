import { asc, eq } from 'drizzle-orm';
import { type Actor, entryColumns } from '../audit/event.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { Queryable } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { problems } from '../http/problem.ts';
import type { ApprovalCreateInput } from './schemas.ts';
import { getLicense } from './service.ts';
import { licenseApprovals } from './tables.ts';

type ApprovalRow = typeof licenseApprovals.$inferSelect;

const approvalView = (a: ApprovalRow) => ({
  ...a,
  validFrom: a.validFrom.toISOString(),
  validUntil: a.validUntil.toISOString(),
  createdAt: a.createdAt.toISOString(),
});

/** Records legal's approval where the license says a grant `requiresApproval`; refused anywhere else. */
export async function recordApproval(ledger: Ledger, actor: Actor, licenseId: string, input: ApprovalCreateInput) {
  return ledger.change(actor, async ({ tx, record }) => {
    const license = await getLicense(tx, licenseId);
    if (license.grants[input.grant] !== 'requiresApproval') {
      throw problems.conflict(`the ${input.grant} grant of license ${licenseId} is "${license.grants[input.grant]}": there is nothing to approve`);
    }
    if (license.status === 'revoked' || license.status === 'superseded') {
      throw problems.conflict(`license ${licenseId} is ${license.status}; approve on its current version`);
    }
    const id = newId('apr');
    const draft = { id, licenseId, grant: input.grant, vendor: input.vendor, purpose: input.purpose, note: input.note ?? null };
    const event = record({
      action: 'license.approval-recorded',
      subjectId: licenseId,
      content: { ...draft, assetId: license.assetId, validFrom: input.validFrom, validUntil: input.validUntil },
    });
    const [row] = await tx
      .insert(licenseApprovals)
      .values({ ...draft, validFrom: new Date(input.validFrom), validUntil: new Date(input.validUntil), ...entryColumns(event) })
      .returning();
    return approvalView(row!);
  });
}

export async function listApprovals(q: Queryable, licenseId: string) {
  await getLicense(q, licenseId);
  const rows = await q.select().from(licenseApprovals).where(eq(licenseApprovals.licenseId, licenseId)).orderBy(asc(licenseApprovals.auditIndex));
  return rows.map(approvalView);
}
