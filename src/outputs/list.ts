// GET /v1/outputs: signed outputs across checkpoints, filtered, with their standing, a page at a time.
import { and, asc, eq, gt, gte, inArray, lt, type SQL } from 'drizzle-orm';
import { checkpointStatuses } from '../checkpoints/service.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import type { Queryable } from '../db/database.ts';
import { type OutputStandingCause, type OutputStandingStatus, outputStandingOf } from './output-standing.ts';
import { outputView } from './reader.ts';
import { outputs, outputWithdrawals } from './tables.ts';

export type OutputListFilter = {
  checkpointId?: string | undefined;
  clearanceId?: string | undefined;
  signedAfter?: Date | undefined;
  signedBefore?: Date | undefined;
  standing?: OutputStandingStatus | undefined;
  cursor?: string | undefined;
  limit: number;
};

export type OutputListItem = ReturnType<typeof outputView> & { standing: { status: OutputStandingStatus; cause: OutputStandingCause | null } };

/** Rows read at a time while a standing filter looks for a page's worth. */
const SCAN = 500;

/**
 * Outputs oldest first (cursor: the last one's audit index). Standing is derived, not stored (a revocation
 * or a term's end changes it without touching the output), so a standing filter reads the other filters'
 * rows in order, a batch at a time, until it has the page and one more.
 */
export async function listOutputs(q: Queryable, f: OutputListFilter, now = new Date()): Promise<{ items: OutputListItem[]; nextCursor: string | null }> {
  const found: OutputListItem[] = [];
  let after = f.cursor === undefined ? undefined : Number(f.cursor);
  for (;;) {
    const where: (SQL | undefined)[] = [
      f.checkpointId === undefined ? undefined : eq(outputs.checkpointId, f.checkpointId),
      f.clearanceId === undefined ? undefined : eq(outputs.clearanceId, f.clearanceId),
      f.signedAfter === undefined ? undefined : gte(outputs.createdAt, f.signedAfter),
      f.signedBefore === undefined ? undefined : lt(outputs.createdAt, f.signedBefore),
      after === undefined ? undefined : gt(outputs.auditIndex, after),
    ];
    const batch = f.standing === undefined ? f.limit + 1 : SCAN;
    const rows = await q
      .select({ output: outputs, withdrawal: outputWithdrawals })
      .from(outputs)
      .leftJoin(outputWithdrawals, eq(outputWithdrawals.outputId, outputs.id))
      .where(and(...where))
      .orderBy(asc(outputs.auditIndex))
      .limit(batch);
    if (rows.length === 0) break;
    const checkpointIds = [...new Set(rows.map((r) => r.output.checkpointId))];
    const checkpointRows = await q.select().from(checkpoints).where(inArray(checkpoints.id, checkpointIds));
    const statuses = await checkpointStatuses(q, checkpointRows, now);
    for (const { output, withdrawal } of rows) {
      const s = statuses.get(output.checkpointId)!;
      const standing = outputStandingOf({ withdrawal, checkpoint: s, clearance: s.standing });
      if (f.standing !== undefined && standing.status !== f.standing) continue;
      found.push({ ...outputView({ ...output, withdrawal }), standing });
      if (found.length > f.limit) break;
    }
    if (found.length > f.limit || rows.length < batch) break;
    after = rows[rows.length - 1]!.output.auditIndex;
  }
  const page = found.slice(0, f.limit);
  return { items: page, nextCursor: found.length > f.limit ? String(page[page.length - 1]!.auditIndex) : null };
}
