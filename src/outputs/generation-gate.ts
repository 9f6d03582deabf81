// The generation gate: may this checkpoint make outputs now?
import { checkpointStatus } from '../checkpoints/service.ts';
import type { Queryable } from '../db/database.ts';
import { type Problem, problems } from '../http/problem.ts';
import type { CheckpointRow, ClearanceRow } from './plan.ts';

/**
 * The generation gate: why a checkpoint may not make outputs now (its status with its clearance standing),
 * or null when it may; with the audit log's size in the snapshot that answer was read from.
 */
export async function generationGate(q: Queryable, checkpoint: CheckpointRow, clearance: ClearanceRow): Promise<{ refusal: Problem | null; logSize: number }> {
  const s = await checkpointStatus(q, checkpoint, new Date(), { clearance });
  if (s.status === 'active') return { refusal: null, logSize: s.asOfLogSize };
  const cause = s.causes[0];
  const why = !cause
    ? s.status
    : cause.kind === 'retired'
      ? `retired: ${cause.reason}`
      : cause.kind === 'license-revoked'
        ? `tainted: license ${cause.licenseId} of asset ${cause.assetIds.join(', ')} was revoked at ${cause.at}`
        : `tainted: license ${cause.licenseId} of asset ${cause.assetIds.join(', ')} ended at ${cause.at}`;
  return { refusal: problems.conflict(`checkpoint ${checkpoint.id} is ${why}; nothing was signed`, { checkpointStatus: s.status, causes: s.causes }), logSize: s.asOfLogSize };
}
