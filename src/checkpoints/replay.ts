import { and, eq } from 'drizzle-orm';
import { contentOf, entryExpect, type StateProjection, timeOf } from '../audit/state-check.ts';
import { joinKey, tableProjection } from '../audit/state-rows.ts';
import type { Queryable } from '../db/database.ts';
import { checkpointStatusEvents, checkpoints } from './tables.ts';

/** Checkpoints and their status history, as the log's events state them (audit/state-replay.ts). */
export function checkpointProjections(q: Queryable): StateProjection[] {
  // A status row's seq is its place in its checkpoint's history: the count of status entries so far.
  const seqs = new Map<string, number>();
  return [
    tableProjection(q, checkpoints, {
      name: 'checkpoints',
      index: checkpoints.auditIndex,
      key: (r) => r.id,
      byKey: (k) => eq(checkpoints.id, k),
      expect(event) {
        if (event.action !== 'checkpoint.registered') return [];
        const c = contentOf(event);
        return [
          {
            key: String(c.id),
            values: {
              id: c.id,
              clearanceId: c.clearanceId,
              datasetId: c.datasetId,
              datasetDigest: c.datasetDigest,
              baseModel: c.baseModel,
              vendor: c.vendor,
              source: c.source,
              tuningJobId: c.tuningJobId,
              externalRef: c.externalRef,
              artifactDigest: c.artifactDigest,
              vertexModel: c.vertexModel,
              vertexEndpoint: c.vertexEndpoint,
              ...entryExpect(event),
            },
          },
        ];
      },
    }),
    tableProjection(q, checkpointStatusEvents, {
      name: 'checkpoint_status_events',
      index: checkpointStatusEvents.auditIndex,
      key: (r) => joinKey(r.checkpointId, r.seq),
      byKey: (k) => {
        const [id, seq] = k.split('/');
        return and(eq(checkpointStatusEvents.checkpointId, id!), eq(checkpointStatusEvents.seq, Number(seq)));
      },
      expect(event) {
        if (event.action !== 'checkpoint.tainted' && event.action !== 'checkpoint.retired') return [];
        const c = contentOf(event);
        const id = String(c.checkpointId);
        const seq = (seqs.get(id) ?? 0) + 1;
        seqs.set(id, seq);
        return [
          {
            key: joinKey(id, seq),
            values: { checkpointId: id, seq, status: c.status, cause: c.cause, effectiveAt: timeOf(c.effectiveAt), recordedAt: new Date(event.time), auditIndex: event.index },
          },
        ];
      },
    }),
  ];
}
