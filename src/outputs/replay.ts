import { eq, type SQL, sql } from 'drizzle-orm';
import { contentOf, entryExpect, type StateProjection, type StoredRow } from '../audit/state-check.ts';
import { joinKey, tableProjection } from '../audit/state-rows.ts';
import { type Queryable, queryRows } from '../db/database.ts';
import { pdqWords } from '../media/pdq.ts';
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
    fingerprintsProjection(q),
    manifestStoresProjection(q),
    videoFramesProjection(q),
  ];
}

type StoreRow = { output_id: string; sha256: string; idx: string | number | null };

/**
 * output_manifest_stores, as the output's entry states its store's SHA-256 (entries written before stores
 * were kept state none, and have no row). Like a fingerprint, the row claims its output's index.
 */
function manifestStoresProjection(q: Queryable): StateProjection {
  const select = (where: SQL) =>
    queryRows<StoreRow>(
      q,
      sql`select s.output_id, encode(sha256(s.store), 'hex') as sha256, o.audit_index as idx
          from output_manifest_stores s left join outputs o on o.id = s.output_id
          where ${where}
          order by o.audit_index, s.output_id`,
    );
  const toStored = (r: StoreRow): StoredRow => ({ index: r.idx === null ? null : Number(r.idx), key: r.output_id, values: { outputId: r.output_id, sha256: r.sha256 } });
  return {
    table: 'output_manifest_stores',
    expect(event) {
      if (event.action !== 'output.signed') return [];
      const c = contentOf(event);
      if (typeof c.manifestStoreSha256 !== 'string') return [];
      const outputId = String(c.id ?? event.subjectId);
      return [{ key: outputId, values: { outputId, sha256: c.manifestStoreSha256 } }];
    },
    async read(range) {
      return (await select(byOutputIndex(range))).map(toStored);
    },
    async find(key) {
      const rows = await select(sql`s.output_id = ${key}`);
      return rows[0] ? toStored(rows[0]) : undefined;
    },
    columnName: (prop) => ({ outputId: 'output_id', sha256: 'sha256(store)' })[prop] ?? prop,
  };
}

/** Rows that claim their output's index (`o`, outputs joined): those of a range of the log, or those outside it. */
function byOutputIndex(range: { from: number; to: number } | { outside: number }): SQL {
  return 'outside' in range
    ? sql`o.audit_index is null or o.audit_index < 0 or o.audit_index >= ${range.outside}`
    : sql`o.audit_index >= ${range.from} and o.audit_index < ${range.to}`;
}

type FingerprintRow = { output_id: string; algorithm: string; value: string; quality: number; idx: string | number | null; chunks: number[] };

/** The chunks agree with the value: what the check says of an honest row (a forged chunk misleads the index). */
const AS_THE_VALUE = 'as the value';

/**
 * output_fingerprints, as the output's own entry states its fingerprint (the row has no index of its own:
 * it claims its output's). Verification reads it to recover an output from a copy without its manifest.
 */
function fingerprintsProjection(q: Queryable): StateProjection {
  const select = (where: SQL) =>
    queryRows<FingerprintRow>(
      q,
      sql`select f.output_id, f.algorithm, f.value, f.quality, o.audit_index as idx,
            array[f.c0, f.c1, f.c2, f.c3, f.c4, f.c5, f.c6, f.c7, f.c8, f.c9, f.c10, f.c11, f.c12, f.c13, f.c14, f.c15] as chunks
          from output_fingerprints f left join outputs o on o.id = f.output_id
          where ${where}
          order by o.audit_index, f.output_id, f.algorithm, f.value`,
    );
  const chunksAgree = (r: FingerprintRow) => {
    try {
      const words = pdqWords(r.value);
      return words.every((w, i) => Number(r.chunks[i]) === w);
    } catch {
      return false;
    }
  };
  const toStored = (r: FingerprintRow): StoredRow => ({
    index: r.idx === null ? null : Number(r.idx),
    key: joinKey(r.output_id, r.algorithm, r.value),
    values: { outputId: r.output_id, algorithm: r.algorithm, value: r.value, quality: Number(r.quality), chunks: chunksAgree(r) ? AS_THE_VALUE : 'differ from the value' },
  });
  return {
    table: 'output_fingerprints',
    expect(event) {
      if (event.action !== 'output.signed') return [];
      const c = contentOf(event);
      type Stated = { algorithm: string; value: string; quality: number };
      const f = c.fingerprint as Stated | null | undefined;
      if (!f) return [];
      const others = Array.isArray(c.otherFingerprints) ? (c.otherFingerprints as Stated[]) : [];
      const outputId = String(c.id ?? event.subjectId);
      return [f, ...others].map((x) => ({
        key: joinKey(outputId, x.algorithm, x.value),
        values: { outputId, algorithm: x.algorithm, value: x.value, quality: x.quality, chunks: AS_THE_VALUE },
      }));
    },
    async read(range) {
      return (await select(byOutputIndex(range))).map(toStored);
    },
    async find(key) {
      const [outputId, algorithm, ...rest] = key.split('/');
      const rows = await select(sql`f.output_id = ${outputId} and f.algorithm = ${algorithm} and f.value = ${rest.join('/')}`);
      return rows[0] ? toStored(rows[0]) : undefined;
    },
    columnName: (prop) => ({ outputId: 'output_id', chunks: 'c0..c15' })[prop] ?? prop,
  };
}

type VideoFrameRow = { output_id: string; at_ms: number; value: string; quality: number; idx: string | number | null; chunks: number[] };

/**
 * output_video_frames, as the video's own entry states its frames (`videoFingerprint.frames`; the rows claim
 * their output's index, as fingerprints do). A forged frame would lead a copy to another output, or to a
 * stretch of it that the copy is not.
 */
function videoFramesProjection(q: Queryable): StateProjection {
  const select = (where: SQL) =>
    queryRows<VideoFrameRow>(
      q,
      sql`select f.output_id, f.at_ms, f.value, f.quality, o.audit_index as idx,
            array[f.c0, f.c1, f.c2, f.c3, f.c4, f.c5, f.c6, f.c7, f.c8, f.c9, f.c10, f.c11, f.c12, f.c13, f.c14, f.c15] as chunks
          from output_video_frames f left join outputs o on o.id = f.output_id
          where ${where}
          order by o.audit_index, f.output_id, f.at_ms`,
    );
  const chunksAgree = (r: VideoFrameRow) => {
    try {
      return pdqWords(r.value).every((w, i) => Number(r.chunks[i]) === w);
    } catch {
      return false;
    }
  };
  const toStored = (r: VideoFrameRow): StoredRow => ({
    index: r.idx === null ? null : Number(r.idx),
    key: joinKey(r.output_id, Number(r.at_ms)),
    values: { outputId: r.output_id, atMs: Number(r.at_ms), value: r.value, quality: Number(r.quality), chunks: chunksAgree(r) ? AS_THE_VALUE : 'differ from the value' },
  });
  return {
    table: 'output_video_frames',
    expect(event) {
      if (event.action !== 'output.signed') return [];
      const c = contentOf(event);
      const v = c.videoFingerprint as { frames?: { atMs: number; value: string; quality: number }[] } | null | undefined;
      if (!v || !Array.isArray(v.frames)) return [];
      const outputId = String(c.id ?? event.subjectId);
      return v.frames.map((x) => ({
        key: joinKey(outputId, x.atMs),
        values: { outputId, atMs: x.atMs, value: x.value, quality: x.quality, chunks: AS_THE_VALUE },
      }));
    },
    async read(range) {
      return (await select(byOutputIndex(range))).map(toStored);
    },
    async find(key) {
      const [outputId, atMs] = key.split('/');
      if (!outputId || !/^\d+$/.test(atMs ?? '')) return undefined;
      const rows = await select(sql`f.output_id = ${outputId} and f.at_ms = ${Number(atMs)}::int`);
      return rows[0] ? toStored(rows[0]) : undefined;
    },
    columnName: (prop) => ({ outputId: 'output_id', atMs: 'at_ms', chunks: 'c0..c15' })[prop] ?? prop,
  };
}
