// Whether rights still rest on a registered output: one status and one cause, beside the integrity verdict.
import type { StatusCause } from '../checkpoints/tables.ts';
import { describeStandingCause, type Standing } from '../gate/standing.ts';

export type OutputStandingStatus = 'good' | 'tainted' | 'withdrawn';

/** Stable codes: what to branch on. The message is for people. */
export type OutputStandingCode = 'output-withdrawn' | 'license-revoked' | 'license-expired';

export type OutputStandingCause = { code: OutputStandingCode; message: string };

/**
 * Pure. `withdrawn` when the ledger withdrew the output itself (its signed file failed the read-back);
 * `tainted` when its checkpoint is tainted or the clearance it was trained under has fallen (a license
 * under it revoked, or its term ended), whatever else the checkpoint's status says (a retired checkpoint's
 * outputs stay good unless that happens); else `good`, with no cause. A clearance that merely expired stops
 * new training only, so its outputs stay good.
 */
export function outputStandingOf(s: { withdrawal: { reason: string } | null; checkpoint: { status: string; causes: readonly StatusCause[] }; clearance: Standing }): {
  status: OutputStandingStatus;
  cause: OutputStandingCause | null;
} {
  if (s.withdrawal) {
    return { status: 'withdrawn', cause: { code: 'output-withdrawn', message: `the ledger withdrew this output, which was never handed out: ${s.withdrawal.reason}` } };
  }
  const taint = s.checkpoint.status === 'tainted' ? s.checkpoint.causes.find((c) => c.kind === 'license-revoked' || c.kind === 'license-expired') : undefined;
  if (taint && (taint.kind === 'license-revoked' || taint.kind === 'license-expired')) {
    const assets = taint.assetIds.join(', ');
    const what =
      taint.kind === 'license-revoked'
        ? `license ${taint.licenseId} of asset ${assets} was revoked at ${taint.at}${taint.reason ? `: ${taint.reason}` : ''}`
        : `license ${taint.licenseId} of asset ${assets} ended at ${taint.at}`;
    return { status: 'tainted', cause: { code: taint.kind, message: `the checkpoint that made this output is tainted: ${what}` } };
  }
  const fallen = s.clearance.status === 'revoked' ? s.clearance.causes.find((c) => c.cause === 'license-revoked' || c.cause === 'license-expired') : undefined;
  if (fallen && (fallen.cause === 'license-revoked' || fallen.cause === 'license-expired')) {
    return { status: 'tainted', cause: { code: fallen.cause, message: `the clearance this output rests on has fallen: ${describeStandingCause(fallen)}` } };
  }
  return { status: 'good', cause: null };
}
