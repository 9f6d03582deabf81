// The reader of output records: an output with its withdrawal, as the API shows it.
import { and, desc, eq, lt } from 'drizzle-orm';
import type { Queryable } from '../db/database.ts';
import { problems } from '../http/problem.ts';
import { outputs, outputWithdrawals } from './tables.ts';

export type OutputRow = typeof outputs.$inferSelect;
export type WithdrawalRow = typeof outputWithdrawals.$inferSelect;
/** An output's record with its withdrawal (null unless the ledger withdrew it). */
export type OutputRecord = OutputRow & { withdrawal: WithdrawalRow | null };

/** An output's record with its withdrawal (null unless the ledger withdrew it), or undefined when there is none. */
export async function findOutput(q: Queryable, id: string): Promise<OutputRecord | undefined> {
  const [row] = await q
    .select({ output: outputs, withdrawal: outputWithdrawals })
    .from(outputs)
    .leftJoin(outputWithdrawals, eq(outputWithdrawals.outputId, outputs.id))
    .where(eq(outputs.id, id));
  return row ? { ...row.output, withdrawal: row.withdrawal } : undefined;
}

/** findOutput, or 404. */
export async function getOutput(q: Queryable, id: string): Promise<OutputRecord> {
  const output = await findOutput(q, id);
  if (!output) throw problems.notFound(`no output ${id}`);
  return output;
}

export function outputView(o: OutputRow & { withdrawal?: WithdrawalRow | null }) {
  const { withdrawal, ...output } = o;
  return { ...output, createdAt: o.createdAt.toISOString(), withdrawal: withdrawalView(withdrawal ?? null) };
}

/** A withdrawal as the API shows it, wherever the output appears (its record, a verification). */
export function withdrawalView(w: WithdrawalRow | null) {
  return w ? { reason: w.reason, codes: w.codes, withdrawnAt: w.withdrawnAt.toISOString(), auditIndex: w.auditIndex } : null;
}

/**
 * The outputs signed with a checkpoint, newest first, a page at a time (cursor: the last one's audit index).
 * A summary, not the record: what a checkpoint's reader (a vendor among them) may see of what it made.
 */
export async function listCheckpointOutputs(q: Queryable, checkpointId: string, f: { cursor?: string | undefined; limit: number }) {
  const rows = await q
    .select({ output: outputs, withdrawal: outputWithdrawals })
    .from(outputs)
    .leftJoin(outputWithdrawals, eq(outputWithdrawals.outputId, outputs.id))
    .where(and(eq(outputs.checkpointId, checkpointId), f.cursor ? lt(outputs.auditIndex, Number(f.cursor)) : undefined))
    .orderBy(desc(outputs.auditIndex))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const items = page.map(({ output: o, withdrawal }) => ({
    id: o.id,
    checkpointId: o.checkpointId,
    mimeType: o.mimeType,
    signedSha256: o.signedSha256,
    signedSize: o.signedSize,
    sourceAssetIds: o.sourceAssetIds,
    generator: o.generator,
    createdAt: o.createdAt.toISOString(),
    createdBy: o.createdBy,
    auditIndex: o.auditIndex,
    withdrawal: withdrawalView(withdrawal),
  }));
  return { items, nextCursor: rows.length > f.limit ? String(page[page.length - 1]!.output.auditIndex) : null };
}
