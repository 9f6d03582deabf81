import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { eq, sql } from 'drizzle-orm';
import type { AppContext } from '../app-context.ts';
import { assets } from '../assets/tables.ts';
import type { Principal } from '../auth/tokens.ts';
import { checkpointStatus } from '../checkpoints/service.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import type { Database, Queryable } from '../db/database.ts';
import { WrittenOnce } from '../db/written-once.ts';
import { clearances } from '../gate/tables.ts';
import { resolveMembers } from '../datasets/service.ts';
import { Problem, problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import type { Signer } from '../keys/signer.ts';
import { LogMovedOn } from '../audit/ledger.ts';
import { sha256OnThreadPool } from '../provenance/c2pa/c2pa-wasm.ts';
import { C2paError } from '../provenance/c2pa/errors.ts';
import { matchesMimeType, normalizeMimeType } from '../provenance/c2pa/formats.ts';
import type { TimestampAuthority } from '../provenance/c2pa/tsa-client.ts';
import type { C2paSigner, SignResult, SupportedMimeType } from '../provenance/c2pa/types.ts';
import { buildOutputManifest } from './manifest.ts';
import { outputs } from './tables.ts';

export type OutputRow = typeof outputs.$inferSelect;
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

/** Why a checkpoint may not make outputs now (its status with its clearance standing), or null when it may. */
async function generationRefusal(q: Queryable, checkpoint: CheckpointRow, clearance: ClearanceRow): Promise<Problem | null> {
  const s = await checkpointStatus(q, checkpoint, new Date(), { clearance });
  if (s.status === 'active') return null;
  const cause = s.causes[0];
  const why =
    !cause ? s.status
    : cause.kind === 'retired' ? `retired: ${cause.reason}`
    : cause.kind === 'license-revoked' ? `tainted: license ${cause.licenseId} of asset ${cause.assetIds.join(', ')} was revoked at ${cause.at}`
    : `tainted: license ${cause.licenseId} of asset ${cause.assetIds.join(', ')} ended at ${cause.at}`;
  return problems.conflict(`checkpoint ${checkpoint.id} is ${why}; nothing was signed`, { checkpointStatus: s.status, causes: s.causes });
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
 *  1. read the log's tip (size N) and the rows the manifest needs (checkpoint, clearance, sources: written
 *     once and never changed, so kept in memory once seen);
 *  2. ask the gate (checkpoint status, clearance standing) as of then, and sign with index N: c2pa-rs
 *     hashes the file while the gate's queries run, and the signature itself is made only once the gate
 *     has said yes (the signer awaits it), so a refused output is never signed;
 *  3. commit the output row, its entry and nodes in one statement that writes only if the log still has N
 *     entries (`Ledger.appendAt`). Every change appends an entry, so an unchanged size means the gate's
 *     answer still holds. If anything landed meanwhile, the signed file is dropped unseen and the output
 *     is made again the careful way: under the lock, gate, sign, record (`signUnderLock`).
 * The input's own hash is needed only for the record, so it runs on the thread pool meanwhile.
 */
export async function signOutput(app: AppContext, principal: Principal, input: OutputInput): Promise<{ bytes: Uint8Array; output: OutputRow }> {
  const mimeType = supportedType(input.mimeType, input.bytes);
  const originalDigest = sha256OnThreadPool(input.bytes);
  originalDigest.catch(() => {}); // awaited below unless something fails first
  const tipRead = app.ledger.tip();
  tipRead.catch(() => {}); // likewise
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
  const tip = await tipRead;
  // Asked only now, after the tip: what the gate reads then includes every change up to the tip, and
  // anything later moves the log past it, so the commit below refuses and the gate is asked again.
  const gate = generationRefusal(db, plan.checkpoint, plan.clearance);
  gate.catch(() => {}); // awaited by the signer, or in signManifest if c2pa-rs fails before it asks
  // c2pa-rs holds this thread until it asks for the signature, and postgres.js writes on a later turn of
  // the event loop (queued behind this one): let the gate's queries leave first, so they run meanwhile.
  await yieldToLoop();
  await yieldToLoop();
  const signed = await signManifest(app, plan, tip.size, async () => {
    const refusal = await gate;
    if (refusal) throw refusal;
  });
  const hashes: OutputHashes = { signedSha256: sha256(signed.bytes), originalSha256: await originalDigest };
  try {
    const output = await app.ledger.appendAt(tip, principal, outputEvent(plan, signed, hashes), ({ event, entryIndex }) =>
      db
        .insert(outputs)
        .values({ ...outputValues(plan, signed, hashes, principal, event), auditIndex: entryIndex })
        .returning()
        .prepare('outputs_insert_at')
        .execute()
        .then(([row]) => ({ value: row!, appendedAt: row!.auditIndex })),
    );
    return { bytes: signed.bytes, output };
  } catch (e) {
    if (!(e instanceof LogMovedOn)) throw e;
  }
  return signUnderLock(app, principal, plan, hashes.originalSha256);
}

/** The careful way, when the log moved on during an optimistic sign: gate, sign and record under the lock. */
async function signUnderLock(app: AppContext, principal: Principal, plan: SignPlan, originalSha256: string): Promise<{ bytes: Uint8Array; output: OutputRow }> {
  let signed: SignResult | undefined;
  const output = await app.ledger.change(principal, async ({ tx, record }) => {
    const refusal = await generationRefusal(tx, plan.checkpoint, plan.clearance);
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
async function signManifest(app: AppContext, plan: SignPlan, auditIndex: number, beforeSignature?: () => Promise<void>): Promise<SignResult> {
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
    return await app.c2pa.sign({ bytes: input.bytes, mimeType: plan.mimeType, manifest, signer });
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

export async function getOutput(q: Queryable, id: string): Promise<OutputRow> {
  const [row] = await q.select().from(outputs).where(eq(outputs.id, id));
  if (!row) throw problems.notFound(`no output ${id}`);
  return row;
}

export function outputView(o: OutputRow) {
  return { ...o, createdAt: o.createdAt.toISOString() };
}
