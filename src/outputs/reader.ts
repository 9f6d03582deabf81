// The reader of output records: an output with its withdrawal, as the API shows it.
import { eq } from 'drizzle-orm';
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
