import { eq } from 'drizzle-orm';
import { contentOf, entryExpect, type StateProjection } from '../audit/state-check.ts';
import { tableProjection } from '../audit/state-rows.ts';
import type { Queryable } from '../db/database.ts';
import { outputs, outputWithdrawals } from './tables.ts';

/**
 * Signed outputs and their withdrawals, as the log's events state them (audit/state-replay.ts). An
 * output's entry does not state `signed_size` or the stored `prompt` (the sign path writes them to the
 * row only); no decision reads either (the entry states the prompt's hash).
 */
export function outputProjections(q: Queryable): StateProjection[] {
  return [
    tableProjection(q, outputs, {
      name: 'outputs',
      index: outputs.auditIndex,
      key: (r) => r.id,
      byKey: (k) => eq(outputs.id, k),
      expect(event) {
        if (event.action !== 'output.signed') return [];
        const c = contentOf(event);
        return [
          {
            key: String(c.id ?? event.subjectId),
            values: {
              id: c.id ?? event.subjectId,
              checkpointId: c.checkpointId,
              clearanceId: c.clearanceId,
              datasetId: c.datasetId,
              datasetDigest: c.datasetDigest,
              policyDigest: c.policyDigest,
              mimeType: c.mimeType,
              originalSha256: c.originalSha256,
              signedSha256: c.signedSha256,
              manifestLabel: c.manifestLabel,
              sourceAssetIds: c.sourceAssetIds,
              promptSha256: c.promptSha256,
              generator: c.generator,
              ...entryExpect(event),
            },
          },
        ];
      },
    }),
    tableProjection(q, outputWithdrawals, {
      name: 'output_withdrawals',
      index: outputWithdrawals.auditIndex,
      key: (r) => r.outputId,
      byKey: (k) => eq(outputWithdrawals.outputId, k),
      expect(event) {
        if (event.action !== 'output.withdrawn') return [];
        const c = contentOf(event);
        return [{ key: String(c.outputId), values: { outputId: c.outputId, reason: c.reason, codes: c.codes, withdrawnAt: new Date(event.time), auditIndex: event.index } }];
      },
    }),
  ];
}
