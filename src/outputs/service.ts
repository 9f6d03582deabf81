import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { type Column, eq, getTableColumns, sql } from 'drizzle-orm';
import type { AppContext } from '../app-context.ts';
import { assets } from '../assets/tables.ts';
import type { Principal } from '../auth/tokens.ts';
import { checkpointStatus } from '../checkpoints/service.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import { type Database, type Queryable, queryTextPrepared } from '../db/database.ts';
import { WrittenOnce } from '../db/written-once.ts';
import { clearances } from '../gate/tables.ts';
import { resolveMembers } from '../datasets/service.ts';
import { Problem, problems } from '../http/problem.ts';
import { newId } from '../db/ids.ts';
import type { Signer } from '../signing/signer.ts';
import { LogMovedOn, type LogTip } from '../audit/ledger.ts';
import { sha256OnThreadPool } from '../provenance/c2pa/c2pa-wasm.ts';
import { C2paError } from '../provenance/c2pa/errors.ts';
import { matchesMimeType, normalizeMimeType } from '../provenance/c2pa/formats.ts';
import type { TimestampAuthority } from '../provenance/c2pa/tsa-client.ts';
import type { C2paSigner, SignResult, SupportedMimeType } from '../provenance/c2pa/types.ts';
import { buildOutputManifest } from './manifest.ts';
import { outputWithdrawals, outputs } from './tables.ts';

export type OutputRow = typeof outputs.$inferSelect;
export type WithdrawalRow = typeof outputWithdrawals.$inferSelect;
/** An output's record with its withdrawal (null unless the ledger withdrew it). */
export type OutputRecord = OutputRow & { withdrawal: WithdrawalRow | null };
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/**
 * Local key or Cloud KMS alike: c2pa-rs gets raw r||s over SHA-256, which is what `Signer` gives; the
 * time-stamp authority, when configured, stamps either one's signature the same way.
 */
export function c2paSignerFrom(signer: Signer, certChainDer: Uint8Array[], timestampAuthority: TimestampAuthority | null = null): C2paSigner {
  if (signer.alg !== 'ES256') throw new Error('C2PA signing needs an ES256 (EC P-256) key');
  return { alg: 'es256', certChainDer, sign: (data) => signer.sign(data), ...(timestampAuthority ? { timestampAuthority } : {}) };
}

/** c2pa-rs errors as the answers a client should get: its file, not our service, is at fault. */
export function c2paProblem(e: C2paError): Problem {
  const problem = problemFor(e);
  problem.cause = e; // what c2pa-rs said, for the record of a withdrawn output
  return problem;
}

function problemFor(e: C2paError): Problem {
  switch (e.code) {
    case 'unsupported_media_type':
      return new Problem(415, 'unsupported-media-type', e.message);
    case 'asset_parse_error':
    case 'manifest_parse_error':
      return new Problem(422, 'unprocessable', `the file does not parse as its type: ${e.message}`);
    case 'signing_failed':
      return new Problem(502, 'upstream', `the signing key failed: ${e.message}`);
    case 'timestamp_failed':
      // Configured time-stamping is never skipped: no token, no signed output.
      return new Problem(502, 'upstream', `the time-stamp authority failed, so nothing was signed: ${e.message}`);
    default:
      return new Problem(500, 'internal', `C2PA signing failed: ${e.message}`);
  }
}

export function supportedType(declared: string | undefined, bytes: Uint8Array): SupportedMimeType {
  const mimeType = declared ? normalizeMimeType(declared) : undefined;
  if (!mimeType) throw new Problem(415, 'unsupported-media-type', `unsupported media type ${JSON.stringify(declared ?? '')}: send JPEG, PNG, WebP, MP4 or MOV`);
  if (!matchesMimeType(bytes, mimeType)) throw new Problem(422, 'unprocessable', `the file does not parse as ${mimeType}`);
  return mimeType;
}

export type OutputInput = {
  bytes: Uint8Array;
  mimeType: string | undefined;
  title: string;
  checkpointId: string;
  sourceAssetIds: string[];
  prompt?: string;
  generator?: { name: string; version?: string };
};

type CheckpointRow = typeof checkpoints.$inferSelect;
type ClearanceRow = typeof clearances.$inferSelect;

/**
 * Named (prepared) statements here and in verify.ts: drizzle sends an unnamed query with parameters as a
 * Describe round trip, then Bind/Execute once this process has read the answer, and nothing else is sent on
 * that connection meanwhile. A statement postgres.js has prepared on the connection goes out in one.
 */

/** The checkpoint and the clearance it was trained under; both rows are written once and never change. */
async function checkpointWithClearance(q: Queryable, checkpointId: string): Promise<{ checkpoint: CheckpointRow; clearance: ClearanceRow }> {
  const [row] = await q
    .select({ checkpoint: checkpoints, clearance: clearances })
    .from(checkpoints)
    .innerJoin(clearances, eq(clearances.id, checkpoints.clearanceId))
    .where(eq(checkpoints.id, checkpointId))
    .prepare('outputs_checkpoint_with_clearance')
    .execute();
  if (!row) throw problems.notFound(`no checkpoint ${checkpointId}`);
  return row;
}

// Rows a render farm asks for on every frame, which never change: kept per database.
const checkpointsSeen = new WrittenOnce<{ checkpoint: CheckpointRow; clearance: ClearanceRow }>(1_000);
const sourcesSeen = new WrittenOnce<{ sha256: string; title: string }>(10_000);

/**
 * The source assets, in the order given, with their titles: 422 for an unknown or repeated id (as
 * `resolveMembers` answers), from memory when every one has been seen.
 */
async function sourceAssets(database: Database, ids: readonly string[]): Promise<{ assetId: string; sha256: string; title: string }[]> {
  if (ids.length === 0) return [];
  const held = ids.map((id) => sourcesSeen.get(database, id));
  if (new Set(ids).size === ids.length && held.every((h) => h !== undefined)) return ids.map((id, i) => ({ assetId: id, ...held[i]! }));
  const db = database.db;
  const [members, titles] = await Promise.all([
    resolveMembers(db, ids),
    db.select({ id: assets.id, title: assets.title }).from(assets).where(sql`${assets.id} = any(${sql.param([...new Set(ids)])}::text[])`).prepare('outputs_source_titles').execute(),
  ]);
  const titleOf = new Map(titles.map((a) => [a.id, a.title]));
  return members.map((m) => {
    const row = { sha256: m.sha256, title: titleOf.get(m.assetId) ?? m.assetId };
    sourcesSeen.set(database, m.assetId, row);
    return { assetId: m.assetId, ...row };
  });
}

/**
 * The generation gate: why a checkpoint may not make outputs now (its status with its clearance standing),
 * or null when it may; with the audit log's size in the snapshot that answer was read from.
 */
async function generationGate(q: Queryable, checkpoint: CheckpointRow, clearance: ClearanceRow): Promise<{ refusal: Problem | null; logSize: number }> {
  const s = await checkpointStatus(q, checkpoint, new Date(), { clearance });
  if (s.status === 'active') return { refusal: null, logSize: s.asOfLogSize };
  const cause = s.causes[0];
  const why =
    !cause ? s.status
    : cause.kind === 'retired' ? `retired: ${cause.reason}`
    : cause.kind === 'license-revoked' ? `tainted: license ${cause.licenseId} of asset ${cause.assetIds.join(', ')} was revoked at ${cause.at}`
    : `tainted: license ${cause.licenseId} of asset ${cause.assetIds.join(', ')} ended at ${cause.at}`;
  return { refusal: problems.conflict(`checkpoint ${checkpoint.id} is ${why}; nothing was signed`, { checkpointStatus: s.status, causes: s.causes }), logSize: s.asOfLogSize };
}

/** What a sign needs besides the audit index: read and checked before anything is decided. */
type SignPlan = {
  id: string;
  input: OutputInput;
  mimeType: SupportedMimeType;
  checkpoint: CheckpointRow;
  clearance: ClearanceRow;
  sources: { assetId: string; sha256: string; title: string }[];
  promptSha256: string | null;
  storePrompt: boolean;
};

/** The hashes an output is recorded with: of the file as generated, and as signed. */
type OutputHashes = { originalSha256: string; signedSha256: string };

/**
 * The generation gate, then the signature: an output of an active checkpoint gets a C2PA manifest that
 * ties it to the checkpoint, its clearance and dataset digest, its source art, and its own audit entry.
 *
 * The manifest carries the index of the entry that records the output, so the index must be known before
 * c2pa-rs signs. The sign does not hold the ledger's append lock for that (it takes 10-100 ms, longer with
 * Cloud KMS or a time-stamp authority, and every writer waits on that lock). Instead:
 *  1. take the log's tip (size N): the one this process last committed or read, at once (read only when it
 *     has none); with the rows the manifest needs (checkpoint, clearance, sources: written once and never
 *     changed, so kept in memory once seen);
 *  2. ask the gate (checkpoint status, clearance standing, and the log's size in the same snapshot: one
 *     statement), and sign with index N: c2pa-rs hashes the file while the gate's statement runs, and the
 *     signature itself is made only once the gate has said yes as of N entries (the signer awaits it), so
 *     a refused output is never signed, and one begun from a tip the log has passed is begun again from
 *     the log's (`TipPassed`);
 *  3. commit the output row, its entry and nodes in one statement that writes only if the log still has N
 *     entries (`Ledger.appendAt`). Every change appends an entry, so an unchanged size means the gate's
 *     answer still holds (the gate read after the log had N entries). If anything landed meanwhile, the
 *     signed file is dropped unseen and the output is made again the careful way: under the lock, gate,
 *     sign, record (`signUnderLock`).
 * The commit goes out as soon as c2pa-rs has signed, and runs beside the engine's read-back of the signed
 * file; the file leaves only once both are done. If the read-back refuses a file already recorded, the
 * output is withdrawn (its own entry says why) and the answer is the read-back's error.
 * The input's own hash is needed only for the record, so it runs on the thread pool meanwhile.
 */
export async function signOutput(app: AppContext, principal: Principal, input: OutputInput): Promise<{ bytes: Uint8Array; output: OutputRow }> {
  const mimeType = supportedType(input.mimeType, input.bytes);
  const originalDigest = sha256OnThreadPool(input.bytes);
  originalDigest.catch(() => {}); // awaited below unless something fails first
  const remembered = app.ledger.rememberedTip();
  const tipRead = remembered ? undefined : app.ledger.tip();
  tipRead?.catch(() => {}); // likewise
  const database = app.database;
  const db = database.db;
  const [sourcesRead, checkpointRead] = await Promise.allSettled([
    sourceAssets(database, input.sourceAssetIds),
    checkpointsSeen.read(database, input.checkpointId, () => checkpointWithClearance(db, input.checkpointId)),
  ]);
  // The same answer as when these were read one after another: the source list is judged first.
  if (sourcesRead.status === 'rejected') throw sourcesRead.reason;
  if (checkpointRead.status === 'rejected') throw checkpointRead.reason;
  const plan: SignPlan = {
    id: newId('out'),
    input,
    mimeType,
    ...checkpointRead.value,
    sources: sourcesRead.value,
    promptSha256: input.prompt !== undefined ? sha256(input.prompt) : null,
    storePrompt: app.config.outputs.promptDisclosure === 'full' && input.prompt !== undefined,
  };
  // One restart at most: a sign begun from a tip the log had passed starts once more from the log's own,
  // and that one goes on to its commit (which writes only at its tip, else the sign is made under the
  // lock), so a log that other instances keep moving cannot hold a sign in restarts.
  let tip = remembered ?? (await tipRead!);
  let restarted = false;
  for (;;) {
    try {
      return await signAtTip(app, principal, plan, tip, originalDigest, !restarted);
    } catch (e) {
      if (e instanceof TipPassed && !restarted) {
        tip = await app.ledger.tip();
        restarted = true;
      } else if (e instanceof LogMovedOn) break;
      else throw e;
    }
  }
  return signUnderLock(app, principal, plan, await originalDigest);
}

/**
 * Resolves once the statements issued so far are on the wire. postgres.js writes on a later turn of the
 * event loop, queued behind this one (after the microtasks that issue a drizzle query), so two turns;
 * then c2pa-rs may hold this thread and the database works meanwhile.
 */
async function statementsSent(): Promise<void> {
  await yieldToLoop();
  await yieldToLoop();
}

/** A sign begun from a tip the log had already passed (another process appended): dropped before its signature. */
class TipPassed extends Error {
  constructor(at: number, now: number) {
    super(`begun at ${at} entries, the log has ${now}`);
  }
}

/**
 * One optimistic sign at `tip` (steps 2 and 3 above). The gate's answer comes with the log's size in its
 * snapshot: the signature waits for both, and with `stopIfPassed` a log that is not at the tip's size stops
 * the sign there (TipPassed), as a commit at that index would refuse anyway.
 */
async function signAtTip(
  app: AppContext,
  principal: Principal,
  plan: SignPlan,
  tip: LogTip,
  originalDigest: Promise<string>,
  stopIfPassed: boolean,
): Promise<{ bytes: Uint8Array; output: OutputRow }> {
  const db = app.database.db;
  // Asked only now, after the tip was known: the log had N entries, so what the gate reads includes every
  // change up to N; it says how many the log had when it read, and anything later moves the log past N,
  // so the commit refuses and the gate is asked again.
  const gate = generationGate(db, plan.checkpoint, plan.clearance);
  gate.catch(() => {}); // awaited by the signer, or in signManifest if c2pa-rs fails before it asks
  // c2pa-rs holds this thread until it asks for the signature: the gate's statement leaves first.
  await statementsSent();
  let recording: Promise<OutputRow> | undefined;
  let signed: SignResult;
  try {
    signed = await signManifest(
      app,
      plan,
      tip.size,
      async () => {
        // The gate's refusal answers first: it holds whatever the log's size.
        const { refusal, logSize } = await gate;
        if (refusal) throw refusal;
        if (stopIfPassed && logSize !== tip.size) throw new TipPassed(tip.size, logSize);
      },
      async (s) => {
        const hashes: OutputHashes = { signedSha256: sha256(s.bytes), originalSha256: await originalDigest };
        recording = recordAt(app, principal, plan, tip, s, hashes);
        recording.catch(() => {}); // awaited below, or by withdrawIfRecorded
        // Out on the wire before the read-back holds this thread.
        await statementsSent();
      },
    );
  } catch (e) {
    if (recording) await withdrawIfRecorded(app, principal, recording, e);
    throw e;
  }
  return { bytes: signed.bytes, output: await recording! };
}

/**
 * The output's row, entry and nodes in one statement, if the log is still at `tip` (else LogMovedOn). Its
 * text is written once: drizzle's insert builder took ~0.7 ms a call here (column mapping), on the path
 * between c2pa-rs' signature and the read-back. Parameters go as drizzle would send them (JSON as text,
 * times as ISO strings); the row handed back is the one written, with the index the statement gave.
 */
function recordAt(app: AppContext, principal: Principal, plan: SignPlan, tip: LogTip, signed: SignResult, hashes: OutputHashes): Promise<OutputRow> {
  return app.ledger.appendAt(tip, principal, outputEvent(plan, signed, hashes), async ({ event, entryIndexText, entryIndexParams }) => {
    const row = outputValues(plan, signed, hashes, principal, event);
    const params = [...outputParams(row), ...entryIndexParams];
    const [written] = await queryTextPrepared<{ audit_index: string | number }>(app.database.db, outputInsertAt(entryIndexText), params, 'outputs_insert_at');
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
async function withdrawIfRecorded(app: AppContext, principal: Principal, recording: Promise<OutputRow>, refusal: unknown): Promise<void> {
  const output = await recording.catch(() => null); // the log moved on, or the commit failed: nothing to withdraw
  if (!output) return;
  const c2pa = refusal instanceof C2paError ? refusal : refusal instanceof Error && refusal.cause instanceof C2paError ? refusal.cause : null;
  const reason = c2pa ? `${c2pa.code}: ${c2pa.message}` : refusal instanceof Error ? refusal.message : String(refusal);
  const codes = [...(c2pa?.validationCodes ?? [])];
  try {
    await app.ledger.change(principal, async ({ tx, record }) => {
      const event = record({ action: 'output.withdrawn', subjectId: output.id, content: { outputId: output.id, signedSha256: output.signedSha256, reason, codes } });
      await tx.insert(outputWithdrawals).values({ outputId: output.id, reason, codes, withdrawnAt: new Date(event.time), auditIndex: event.index });
    });
  } catch (e) {
    // The file still does not leave; the record of why is what failed, so it is said here at least.
    app.logger.error({ err: e, outputId: output.id, reason }, 'an output refused by its read-back could not be marked withdrawn');
  }
}

/** The careful way, when the log moved on during an optimistic sign: gate, sign and record under the lock. */
async function signUnderLock(app: AppContext, principal: Principal, plan: SignPlan, originalSha256: string): Promise<{ bytes: Uint8Array; output: OutputRow }> {
  let signed: SignResult | undefined;
  const output = await app.ledger.change(principal, async ({ tx, record }) => {
    const { refusal } = await generationGate(tx, plan.checkpoint, plan.clearance);
    if (refusal) throw refusal;
    // Recorded first for its index; the content is completed below, before the entry is sealed.
    const event = record({ action: 'output.signed', subjectId: plan.id, content: {} });
    signed = await signManifest(app, plan, event.index);
    const hashes: OutputHashes = { originalSha256, signedSha256: sha256(signed.bytes) };
    Object.assign(event.content, outputEvent(plan, signed, hashes).content);
    const [row] = await tx.insert(outputs).values(outputValues(plan, signed, hashes, principal, event)).returning().prepare('outputs_insert').execute();
    return row!;
  });
  return { bytes: signed!.bytes, output };
}

/**
 * Builds the manifest for audit index `auditIndex` and has c2pa-rs sign it. `beforeSignature` runs when
 * c2pa-rs asks for the signature (after it has hashed the file), and may refuse it: its error is the answer.
 */
async function signManifest(app: AppContext, plan: SignPlan, auditIndex: number, beforeSignature?: () => Promise<void>, onSigned?: (signed: SignResult) => Promise<void>): Promise<SignResult> {
  const { checkpoint, clearance, input } = plan;
  const manifest = buildOutputManifest({
    title: input.title,
    mimeType: plan.mimeType,
    allowFurtherTraining: app.config.outputs.allowFurtherTraining,
    promptDisclosure: app.config.outputs.promptDisclosure,
    claimGenerator: { name: 'Clearframe', version: '0.1.0' },
    lineage: {
      outputId: plan.id,
      checkpoint: { id: checkpoint.id, ref: checkpoint.vertexModel ?? checkpoint.externalRef ?? checkpoint.id, artifactDigest: checkpoint.artifactDigest },
      baseModel: checkpoint.baseModel,
      clearanceId: checkpoint.clearanceId,
      dataset: { id: checkpoint.datasetId, digest: checkpoint.datasetDigest },
      policyDigest: clearance.policyDigest,
      ledgerUrl: app.config.publicUrl,
      auditIndex,
      sourceAssets: plan.sources.map((s) => ({ assetId: s.assetId, sha256: s.sha256, title: s.title })),
      promptSha256: plan.promptSha256,
      prompt: plan.storePrompt ? input.prompt! : null,
      generator: input.generator ?? null,
    },
  });
  const key = app.keyring.c2pa.signer;
  let asked = false;
  let refused: { error: unknown } | undefined;
  const signer = c2paSignerFrom(
    beforeSignature
      ? {
          kid: key.kid,
          alg: key.alg,
          publicJwk: key.publicJwk,
          sign: async (data: Uint8Array) => {
            asked = true;
            try {
              await beforeSignature();
            } catch (error) {
              refused = { error };
              throw error;
            }
            return key.sign(data);
          },
        }
      : key,
    app.keyring.c2pa.certChainDer,
    app.timestampAuthority,
  );
  try {
    return await app.c2pa.sign({ bytes: input.bytes, mimeType: plan.mimeType, manifest, signer, ...(onSigned ? { onSigned } : {}) });
  } catch (e) {
    if (refused) throw refused.error;
    // c2pa-rs failed before it asked for the signature: a refusal still answers first (409, not 502/422).
    if (beforeSignature && !asked) await beforeSignature();
    if (e instanceof C2paError) throw c2paProblem(e);
    throw e;
  }
}

/** What an output is recorded with, in its audit entry and its row alike: what was signed, from what, under which clearance. */
function outputFacts(plan: SignPlan, signed: SignResult, { originalSha256, signedSha256 }: OutputHashes) {
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

/** The output's audit entry. */
function outputEvent(plan: SignPlan, signed: SignResult, hashes: OutputHashes) {
  return { action: 'output.signed', subjectId: plan.id, content: outputFacts(plan, signed, hashes) as Record<string, unknown> };
}

/** The output's row: its facts, the stored prompt if configured, and where its entry is. */
function outputValues(plan: SignPlan, signed: SignResult, hashes: OutputHashes, principal: Principal, event: { index: number; time: string }) {
  return {
    ...outputFacts(plan, signed, hashes),
    signedSize: signed.bytes.byteLength,
    prompt: plan.storePrompt ? plan.input.prompt! : null,
    createdAt: new Date(event.time),
    createdBy: principal.sub,
    auditIndex: event.index,
  };
}

/** An output's record with its withdrawal (null unless the ledger withdrew it), or undefined when there is none. */
export async function findOutput(q: Queryable, id: string): Promise<OutputRecord | undefined> {
  const [row] = await q.select({ output: outputs, withdrawal: outputWithdrawals }).from(outputs).leftJoin(outputWithdrawals, eq(outputWithdrawals.outputId, outputs.id)).where(eq(outputs.id, id));
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
