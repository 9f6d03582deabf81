import { createHash } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import type { AppContext } from '../app-context.ts';
import { assets } from '../assets/tables.ts';
import type { Principal } from '../auth/tokens.ts';
import { checkpointStatus } from '../checkpoints/service.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import type { Queryable } from '../db/database.ts';
import { clearances } from '../gate/tables.ts';
import { resolveMembers } from '../datasets/service.ts';
import { Problem, problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import type { Signer } from '../keys/signer.ts';
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

/** Why a checkpoint may not make outputs now (its status with its clearance standing), or null when it may. */
async function generationRefusal(q: Queryable, checkpoint: CheckpointRow): Promise<Problem | null> {
  const s = await checkpointStatus(q, checkpoint);
  if (s.status === 'active') return null;
  const cause = s.causes[0];
  const why =
    !cause ? s.status
    : cause.kind === 'retired' ? `retired: ${cause.reason}`
    : cause.kind === 'license-revoked' ? `tainted: license ${cause.licenseId} of asset ${cause.assetIds.join(', ')} was revoked at ${cause.at}`
    : `tainted: license ${cause.licenseId} of asset ${cause.assetIds.join(', ')} ended at ${cause.at}`;
  return problems.conflict(`checkpoint ${checkpoint.id} is ${why}; nothing was signed`, { checkpointStatus: s.status, causes: s.causes });
}

/**
 * The generation gate, then the signature: an output of an active checkpoint gets a C2PA manifest that
 * ties it to the checkpoint, its clearance and dataset digest, its source art, and its own audit entry.
 * Signing happens inside the change so the manifest can carry the index of the entry that records it.
 *
 * What the manifest needs comes from rows that never change (checkpoint, clearance, source assets), read
 * before the change, together and while the input is hashed on the thread pool; under the append lock only
 * the gate itself (checkpoint status, clearance standing) is asked, so no revocation can land between it
 * and the signature, and a refused output is never signed. (Sending the gate's queries before the sign and
 * awaiting them after was measured: no gain, see docs/benchmarks.md.)
 */
export async function signOutput(app: AppContext, principal: Principal, input: OutputInput): Promise<{ bytes: Uint8Array; output: OutputRow }> {
  const mimeType = supportedType(input.mimeType, input.bytes);
  const originalDigest = sha256OnThreadPool(input.bytes);
  originalDigest.catch(() => {}); // awaited below unless a read throws first
  const db = app.database.db;
  const wanted = input.sourceAssetIds;
  const [sourcesRead, titlesRead, checkpointRead] = await Promise.allSettled([
    wanted.length > 0 ? resolveMembers(db, wanted) : Promise.resolve([]),
    wanted.length > 0 ? db.select({ id: assets.id, title: assets.title }).from(assets).where(inArray(assets.id, [...new Set(wanted)])) : Promise.resolve([]),
    checkpointWithClearance(db, input.checkpointId),
  ]);
  // The same answer as when these were read one after another: the source list is judged first.
  if (sourcesRead.status === 'rejected') throw sourcesRead.reason;
  if (checkpointRead.status === 'rejected') throw checkpointRead.reason;
  if (titlesRead.status === 'rejected') throw titlesRead.reason;
  const sources = sourcesRead.value;
  const titles = new Map(titlesRead.value.map((a) => [a.id, a.title]));
  const { checkpoint, clearance } = checkpointRead.value;
  const originalSha256 = await originalDigest;
  const promptSha256 = input.prompt !== undefined ? sha256(input.prompt) : null;
  const storePrompt = app.config.outputs.promptDisclosure === 'full' && input.prompt !== undefined;
  const id = newId('out');
  const signer = c2paSignerFrom(app.keyring.c2pa.signer, app.keyring.c2pa.certChainDer, app.timestampAuthority);

  let signed: SignResult | undefined;
  const output = await app.ledger.change(principal, async ({ tx, record }) => {
    const refusal = await generationRefusal(tx, checkpoint);
    if (refusal) throw refusal;
    const event = record({
      action: 'output.signed',
      subjectId: id,
      content: {
        id,
        checkpointId: checkpoint.id,
        clearanceId: checkpoint.clearanceId,
        datasetId: checkpoint.datasetId,
        datasetDigest: checkpoint.datasetDigest,
        policyDigest: clearance.policyDigest,
        mimeType,
        originalSha256,
        sourceAssetIds: sources.map((s) => s.assetId),
        promptSha256,
        generator: input.generator ?? null,
      },
    });
    const manifest = buildOutputManifest({
      title: input.title,
      mimeType,
      allowFurtherTraining: app.config.outputs.allowFurtherTraining,
      promptDisclosure: app.config.outputs.promptDisclosure,
      claimGenerator: { name: 'Clearframe', version: '0.1.0' },
      lineage: {
        outputId: id,
        checkpoint: { id: checkpoint.id, ref: checkpoint.vertexModel ?? checkpoint.externalRef ?? checkpoint.id, artifactDigest: checkpoint.artifactDigest },
        baseModel: checkpoint.baseModel,
        clearanceId: checkpoint.clearanceId,
        dataset: { id: checkpoint.datasetId, digest: checkpoint.datasetDigest },
        policyDigest: clearance.policyDigest,
        ledgerUrl: app.config.publicUrl,
        auditIndex: event.index,
        sourceAssets: sources.map((s) => ({ assetId: s.assetId, sha256: s.sha256, title: titles.get(s.assetId) ?? s.assetId })),
        promptSha256,
        prompt: storePrompt ? input.prompt! : null,
        generator: input.generator ?? null,
      },
    });
    try {
      signed = await app.c2pa.sign({ bytes: input.bytes, mimeType, manifest, signer });
    } catch (e) {
      if (e instanceof C2paError) throw c2paProblem(e);
      throw e;
    }
    // Known only now; the entry is sealed when this change returns.
    const signedSha256 = sha256(signed!.bytes);
    event.content.signedSha256 = signedSha256;
    event.content.manifestLabel = signed!.manifestLabel;
    const [row] = await tx
      .insert(outputs)
      .values({
        id,
        checkpointId: checkpoint.id,
        clearanceId: checkpoint.clearanceId,
        datasetId: checkpoint.datasetId,
        datasetDigest: checkpoint.datasetDigest,
        policyDigest: clearance.policyDigest,
        mimeType,
        originalSha256,
        signedSha256,
        signedSize: signed!.bytes.byteLength,
        manifestLabel: signed!.manifestLabel,
        sourceAssetIds: sources.map((s) => s.assetId),
        promptSha256,
        prompt: storePrompt ? input.prompt! : null,
        generator: input.generator ?? null,
        createdAt: new Date(event.time),
        createdBy: principal.sub,
        auditIndex: event.index,
      })
      .returning()
      .prepare('outputs_insert')
      .execute();
    return row!;
  });
  return { bytes: signed!.bytes, output };
}

export async function getOutput(q: Queryable, id: string): Promise<OutputRow> {
  const [row] = await q.select().from(outputs).where(eq(outputs.id, id));
  if (!row) throw problems.notFound(`no output ${id}`);
  return row;
}

export function outputView(o: OutputRow) {
  return { ...o, createdAt: o.createdAt.toISOString() };
}
