import { and, eq } from 'drizzle-orm';
import { contentOf, entryExpect, type StateProjection } from '../audit/state-check.ts';
import { joinKey, tableProjection } from '../audit/state-rows.ts';
import type { Queryable } from '../db/database.ts';
import { tuningJobStates, tuningJobs } from './tables.ts';

/** Tuning jobs and the states Vertex reported, as the log's events state them (audit/state-replay.ts). */
export function tuningProjections(q: Queryable): StateProjection[] {
  // A state row's seq is its place in its job's history: 1 at submission, then one per change.
  const seqs = new Map<string, number>();
  return [
    tableProjection(q, tuningJobs, {
      name: 'tuning_jobs',
      index: tuningJobs.auditIndex,
      key: (r) => r.id,
      byKey: (k) => eq(tuningJobs.id, k),
      expect(event) {
        if (event.action !== 'tuning-job.submitted') return [];
        const c = contentOf(event);
        return [
          {
            key: String(c.id),
            values: {
              id: c.id,
              clearanceId: c.clearanceId,
              vendor: c.vendor,
              baseModel: c.baseModel,
              trainingDataUri: c.trainingDataUri,
              validationDataUri: c.validationDataUri,
              hyperparameters: c.hyperparameters,
              displayName: c.displayName,
              vertexJobName: c.vertexJobName,
              ...entryExpect(event),
            },
          },
        ];
      },
    }),
    tableProjection(q, tuningJobStates, {
      name: 'tuning_job_states',
      index: tuningJobStates.auditIndex,
      key: (r) => joinKey(r.jobId, r.seq),
      byKey: (k) => {
        const [id, seq] = k.split('/');
        return and(eq(tuningJobStates.jobId, id!), eq(tuningJobStates.seq, Number(seq)));
      },
      expect(event) {
        const c = contentOf(event);
        let jobId: string;
        let state: unknown;
        if (event.action === 'tuning-job.submitted') {
          jobId = String(c.id);
          state = c.state;
        } else if (event.action === 'tuning-job.state-changed') {
          jobId = String(c.jobId);
          state = c.to;
        } else return [];
        const seq = (seqs.get(jobId) ?? 0) + 1;
        seqs.set(jobId, seq);
        // A submission's entry states its error and tuned model since the replay check exists (else undefined: not stated).
        return [{ key: joinKey(jobId, seq), values: { jobId, seq, state, error: c.error, tunedModel: c.tunedModel, observedAt: new Date(event.time), auditIndex: event.index } }];
      },
    }),
  ];
}
