// An output's record: what it is recorded with, in its audit entry and its row alike, and how it is written.

import { createHash } from 'node:crypto';
import { type Column, getTableColumns } from 'drizzle-orm';
import { type AuditEvent, entryColumns, recordedAs } from '../audit/event.ts';
import type { LogTip } from '../audit/ledger.ts';
import type { Principal } from '../auth/tokens.ts';
import { queryTextPrepared } from '../db/database.ts';
import { fingerprintInsertSelect, fingerprintParams } from '../fingerprints/store.ts';
import { videoFrameParams, videoFramesInsertSelect } from '../fingerprints/video-store.ts';
import { C2paError } from '../provenance/c2pa/errors.ts';
import type { SignResult } from '../provenance/c2pa/types.ts';
import type { OutputDeps } from './deps.ts';
import type { OutputHashes, SignPlan } from './plan.ts';
import type { OutputRow } from './reader.ts';
import { outputs, outputWithdrawals } from './tables.ts';

export const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/**
 * The output's row, entry and nodes in one statement, if the log is still at `tip` (else LogMovedOn). Its
 * text is written once: drizzle's insert builder took ~0.7 ms a call here (column mapping), on the path
 * between c2pa-rs' signature and the read-back. Parameters go as drizzle would send them (JSON as text,
 * times as ISO strings); the row handed back is the one written, with the index the statement gave.
 */
export function recordAt(app: OutputDeps, principal: Principal, plan: SignPlan, tip: LogTip, signed: SignResult, hashes: OutputHashes): Promise<OutputRow> {
  return app.ledger.appendAt(tip, principal, outputEvent(plan, signed, hashes), async ({ event, entryIndexText, entryIndexParams }) => {
    const row = outputValues(plan, signed, hashes, event);
    const params = [...outputParams(row), ...entryIndexParams, storeParam(signed)];
    const fps = fingerprintList(hashes);
    const video = hashes.videoFingerprint;
    const beside = video ? 'video' : fps.length;
    const [written] = await queryTextPrepared<{ audit_index: string | number }>(
      app.database.db,
      outputWithStoreInsertAt(entryIndexText, params.length + 1, beside),
      [...params, ...(video ? videoFrameParams(video.frames) : fingerprintParams(fps))],
      `outputs_insert_at_${beside}`,
    );
    const auditIndex = Number(written!.audit_index);
    return { value: { ...row, auditIndex }, appendedAt: auditIndex };
  });
}

/**
 * outputs' columns but the audit index, from the table itself: a column added to the table is in the
 * statement, and a row without a value for it fails here instead of writing NULL.
 */
const outputColumns = Object.entries(getTableColumns(outputs)).filter(([key]) => key !== 'auditIndex');
const castFor = (c: Column) => (c.columnType === 'PgBigInt53' ? '::int8' : c.columnType === 'PgJsonb' ? '::jsonb' : c.columnType === 'PgTimestamp' ? '::timestamptz' : '');

let outputInsertAtText: string | undefined;
/** Each column of outputColumns a parameter cast to its type, then the entry's index from the append's parameters. */
function outputInsertAt(entryIndexText: (first: number) => string): string {
  return (outputInsertAtText ??=
    `insert into outputs (${[...outputColumns.map(([, c]) => c.name), outputs.auditIndex.name].join(', ')}) ` +
    `values (${outputColumns.map(([, c], i) => `$${i + 1}${castFor(c)}`).join(', ')}, ${entryIndexText(outputColumns.length + 1)}) returning audit_index`);
}

const outputWithStoreInsertAtText = new Map<number | 'video', string>();
/**
 * The same insert, and beside it in the same statement (a data-modifying WITH) the manifest store (the
 * parameter after the entry's five) and either the output's `beside` fingerprints or, for `'video'`, a
 * video's frames (any number of them: one array parameter per column), parameters from `first`: written
 * only if the output row is, and none if the log has moved on.
 */
function outputWithStoreInsertAt(entryIndexText: (first: number) => string, first: number, beside: number | 'video'): string {
  let text = outputWithStoreInsertAtText.get(beside);
  if (!text) {
    const store = `$${outputColumns.length + 6}::bytea`;
    text =
      `with o as (${outputInsertAt(entryIndexText).replace(/returning audit_index$/, 'returning id, audit_index')}), ` +
      `s as (insert into output_manifest_stores (output_id, store) select o.id, ${store} from o)` +
      (beside === 'video' ? `, v as (${videoFramesInsertSelect('o.id', 'o', first)})` : beside > 0 ? `, f as (${fingerprintInsertSelect('o.id', 'o', first, beside)})` : '') +
      ' select audit_index from o';
    outputWithStoreInsertAtText.set(beside, text);
  }
  return text;
}

/** The manifest store as the driver takes a bytea. */
const storeParam = (signed: SignResult) => Buffer.from(signed.manifestStore.buffer, signed.manifestStore.byteOffset, signed.manifestStore.byteLength);

/** An output's fingerprints as rows: the whole picture's PDQ first, as its entry states them. */
export function fingerprintList(hashes: Pick<OutputHashes, 'fingerprints'>) {
  const f = hashes.fingerprints;
  return f ? [f.whole, f.centre, f.colourLayout] : [];
}

/** The row's values in outputColumns' order, as the driver takes them. */
function outputParams(row: Omit<OutputRow, 'auditIndex'>): unknown[] {
  return outputColumns.map(([key, c]) => {
    const value = (row as Record<string, unknown>)[key];
    if (value === undefined) throw new Error(`recordAt: the output has no value for ${c.name}`);
    if (value === null) return null;
    if (c.columnType === 'PgJsonb') return JSON.stringify(value);
    return value instanceof Date ? value.toISOString() : value;
  });
}

/**
 * The read-back refused a file whose record went out beside it. If that record landed, the output is
 * withdrawn in an entry of its own (rows are never changed): the file never leaves, and the ledger says so.
 */
export async function withdrawIfRecorded(app: OutputDeps, principal: Principal, recording: Promise<OutputRow>, refusal: unknown): Promise<void> {
  const output = await recording.catch(() => null); // the log moved on, or the commit failed: nothing to withdraw
  if (!output) return;
  const c2pa = refusal instanceof C2paError ? refusal : refusal instanceof Error && refusal.cause instanceof C2paError ? refusal.cause : null;
  const reason = c2pa ? `${c2pa.code}: ${c2pa.message}` : refusal instanceof Error ? refusal.message : String(refusal);
  const codes = [...(c2pa?.validationCodes ?? [])];
  try {
    await app.ledger.change(principal, async ({ tx, record }) => {
      const event = record({ action: 'output.withdrawn', subjectId: output.id, content: { outputId: output.id, signedSha256: output.signedSha256, reason, codes } });
      await tx.insert(outputWithdrawals).values({ outputId: output.id, reason, codes, ...recordedAs(event, 'withdrawnAt') });
    });
  } catch (e) {
    // The file still does not leave; the record of why is what failed, so it is said here at least.
    app.logger.error({ err: e, outputId: output.id, reason }, 'an output refused by its read-back could not be marked withdrawn');
  }
}

/** What an output is recorded with, in its audit entry and its row alike: what was signed, from what, under which clearance. */
function outputFacts(plan: SignPlan, signed: SignResult, { originalSha256, signedSha256 }: Pick<OutputHashes, 'originalSha256' | 'signedSha256'>) {
  const { checkpoint } = plan;
  return {
    id: plan.id,
    checkpointId: checkpoint.id,
    clearanceId: checkpoint.clearanceId,
    datasetId: checkpoint.datasetId,
    datasetDigest: checkpoint.datasetDigest,
    policyDigest: plan.clearance.policyDigest,
    mimeType: plan.mimeType,
    originalSha256,
    signedSha256,
    manifestLabel: signed.manifestLabel,
    sourceAssetIds: plan.sources.map((s) => s.assetId),
    promptSha256: plan.promptSha256,
    generator: plan.input.generator ?? null,
  };
}

/**
 * The output's audit entry: its facts and its fingerprints, which the log thus states: `fingerprint` the
 * whole picture's PDQ (null for a video), `otherFingerprints` its centre's and its colour layout (entries
 * written before those were taken have none); for a video, `videoFingerprint` its sampled frames, each at
 * its time in milliseconds (entries of videos signed before videos were fingerprinted have none).
 */
export function outputEvent(plan: SignPlan, signed: SignResult, hashes: OutputHashes) {
  const f = hashes.fingerprints;
  const v = hashes.videoFingerprint;
  const fingerprints = f ? { fingerprint: f.whole, otherFingerprints: [f.centre, f.colourLayout] } : { fingerprint: null };
  const video = v
    ? {
        videoFingerprint: {
          algorithm: v.algorithm,
          sampleSeconds: v.sampleSeconds,
          durationMs: v.durationMs,
          frames: v.frames.map((x) => ({ atMs: x.atMs, value: x.value, quality: x.quality })),
        },
      }
    : {};
  // The manifest store kept for the Soft Binding Resolution API: the entry says which bytes it is.
  const store = { manifestStoreSha256: sha256(signed.manifestStore) };
  return {
    action: 'output.signed',
    subjectId: plan.id,
    content: { ...outputFacts(plan, signed, hashes), ...store, ...fingerprints, ...video } as Record<string, unknown>,
  };
}

/** The output's row: its facts, the stored prompt if configured, and where its entry is. */
export function outputValues(plan: SignPlan, signed: SignResult, hashes: OutputHashes, event: Pick<AuditEvent, 'index' | 'time' | 'actor'>) {
  return {
    ...outputFacts(plan, signed, hashes),
    signedSize: signed.bytes.byteLength,
    prompt: plan.storePrompt ? plan.input.prompt! : null,
    ...entryColumns(event),
  };
}
