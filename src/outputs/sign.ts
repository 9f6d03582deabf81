// The sign path: gate, signature and record of a generated file.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { type IndexReservation, LogMovedOn } from '../audit/ledger.ts';
import type { Principal } from '../auth/tokens.ts';
import { newId } from '../db/ids.ts';
import { addFingerprint } from '../fingerprints/store.ts';
import { addVideoFrames, recordedFrames } from '../fingerprints/video-store.ts';
import { fingerprintOutput } from '../media/fingerprint.ts';
import { fingerprintVideo, VIDEO_SAMPLE_SECONDS } from '../media/video-fingerprint.ts';
import { sha256OnThreadPool } from '../provenance/c2pa/c2pa-wasm.ts';
import { C2paError } from '../provenance/c2pa/errors.ts';
import type { TimestampAuthority } from '../provenance/c2pa/tsa-client.ts';
import type { C2paSigner, SignResult } from '../provenance/c2pa/types.ts';
import type { Signer } from '../signing/signer.ts';
import type { OutputDeps } from './deps.ts';
import { generationGate } from './generation-gate.ts';
import { buildOutputManifest } from './manifest.ts';
import {
  checkpointsSeen,
  checkpointWithClearance,
  type OutputFingerprints,
  type OutputHashes,
  type OutputInput,
  type OutputSoftBinding,
  type OutputVideoFingerprint,
  type SignPlan,
  sourceAssets,
} from './plan.ts';
import { c2paProblem, supportedType } from './problems.ts';
import type { OutputRow } from './reader.ts';
import { fingerprintList, outputEvent, outputValues, recordAt, sha256, withdrawIfRecorded } from './record.ts';
import { readSourceFacts, refuseUnclearedSources, type SourceUse, sourceRefusals, sourcesProblem } from './source-clearance.ts';
import { outputManifestStores, outputs } from './tables.ts';
// The types fingerprinted here are the ones verify recovers: one list for both.
import { RECOVERABLE_TYPES, RECOVERABLE_VIDEO_TYPES } from './verify.ts';

/**
 * Local key or Cloud KMS alike: c2pa-rs gets raw r||s over SHA-256, which is what `Signer` gives; the
 * time-stamp authority, when configured, stamps either one's signature the same way.
 */
export function c2paSignerFrom(signer: Signer, certChainDer: Uint8Array[], timestampAuthority: TimestampAuthority | null = null): C2paSigner {
  if (signer.alg !== 'ES256') throw new Error('C2PA signing needs an ES256 (EC P-256) key');
  return { alg: 'es256', certChainDer, sign: (data) => signer.sign(data), ...(timestampAuthority ? { timestampAuthority } : {}) };
}

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
export async function signOutput(app: OutputDeps, principal: Principal, input: OutputInput): Promise<{ bytes: Uint8Array; output: OutputRow }> {
  const mimeType = supportedType(input.mimeType, input.bytes);
  const originalDigest = sha256OnThreadPool(input.bytes);
  originalDigest.catch(() => {}); // awaited below unless something fails first
  // Decoded by libvips on its own threads (a video by ffmpeg, in its own process) meanwhile. Signing adds a
  // manifest, not pixels, so the file as generated has the signed file's fingerprint.
  const fingerprinting = app.config.outputs.softBinding === 'pdq' ? outputSoftBinding(app, mimeType, input.bytes) : Promise.resolve(NO_SOFT_BINDING);
  fingerprinting.catch(() => {}); // likewise
  const remembered = app.ledger.rememberedTip();
  const tipRead = remembered ? undefined : app.ledger.tip();
  tipRead?.catch(() => {}); // likewise
  const database = app.database;
  const db = database.db;
  // The sources' rights (license, revocation, approvals: these change, so read on every sign, never kept)
  // are read beside the rows, once the tip is known: read after the log had the tip's size, anything
  // recorded since moves the log past it and the sign is checked again (see uncleared below).
  const sourceFactsRead = tipRead ? tipRead.then(() => readSourceFacts(db, input.sourceAssetIds)) : readSourceFacts(db, input.sourceAssetIds);
  const [sourcesRead, checkpointRead, factsRead] = await Promise.allSettled([
    sourceAssets(database, input.sourceAssetIds),
    checkpointsSeen.read(database, input.checkpointId, () => checkpointWithClearance(db, input.checkpointId)),
    sourceFactsRead,
  ]);
  // The same answer as when these were read one after another: the source list is judged first.
  if (sourcesRead.status === 'rejected') throw sourcesRead.reason;
  if (checkpointRead.status === 'rejected') throw checkpointRead.reason;
  if (factsRead.status === 'rejected') throw factsRead.reason;
  const uncleared = sourceRefusals(app.policies.current, factsRead.value, sourceUse(checkpointRead.value));
  if (uncleared.length > 0) {
    // Refused before anything is hashed or signed; a checkpoint that may not make outputs at all answers first.
    const { refusal } = await generationGate(db, checkpointRead.value.checkpoint, checkpointRead.value.clearance);
    throw refusal ?? sourcesProblem(uncleared);
  }
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
      // An index of its own, after the signs this process has in flight (Ledger.reserveIndex): they sign side by side.
      return await signAtTip(app, principal, plan, app.ledger.reserveIndex(tip), originalDigest, fingerprinting, !restarted);
    } catch (e) {
      if (e instanceof TipPassed && !restarted) {
        tip = await app.ledger.tip();
        // The sources' rights as of the new tip: read after it, like the first time.
        refuseUnclearedSources(app.policies.current, await readSourceFacts(db, input.sourceAssetIds), sourceUse(plan));
        restarted = true;
      } else if (e instanceof LogMovedOn) break;
      else throw e;
    }
  }
  return signUnderLock(app, principal, plan, await originalDigest, await fingerprinting);
}

const NO_SOFT_BINDING: OutputSoftBinding = { fingerprints: null, videoFingerprint: null };

/** What soft binding records of this output: a still image's fingerprints, a video's frames, or nothing. */
async function outputSoftBinding(app: Pick<OutputDeps, 'logger'>, mimeType: string, bytes: Uint8Array): Promise<OutputSoftBinding> {
  if (RECOVERABLE_VIDEO_TYPES.has(mimeType)) return { fingerprints: null, videoFingerprint: await outputVideoFingerprint(app, bytes) };
  return { fingerprints: await outputFingerprint(mimeType, bytes), videoFingerprint: null };
}

/** The video's sampled frames, or null (ffmpeg finds no frame it can decode: the output is signed without). */
async function outputVideoFingerprint(app: Pick<OutputDeps, 'logger'>, bytes: Uint8Array): Promise<OutputVideoFingerprint | null> {
  let fp: Awaited<ReturnType<typeof fingerprintVideo>>;
  try {
    fp = await fingerprintVideo(bytes);
  } catch (err) {
    // ffmpeg could not be run at all: the output is still signed, as with soft binding off, and the fault said.
    app.logger.error({ err }, 'the video could not be fingerprinted: ffmpeg did not run');
    return null;
  }
  if (!fp) return null;
  const frames = recordedFrames(fp.frames);
  if (frames.length === 0) return null;
  const durationMs = Math.max(Math.round(fp.duration * 1000), frames.at(-1)!.atMs + 1);
  return { algorithm: 'pdq', sampleSeconds: VIDEO_SAMPLE_SECONDS, durationMs, frames };
}

/** The output's fingerprints, or null (a video, another image type, or pixels libvips cannot decode). */
async function outputFingerprint(mimeType: string, bytes: Uint8Array): Promise<OutputFingerprints | null> {
  if (!RECOVERABLE_TYPES.has(mimeType)) return null;
  return fingerprintOutput(bytes);
}

/** The use an output's sources are put to: by the checkpoint's vendor, under its clearance's purpose, now. */
function sourceUse(p: Pick<SignPlan, 'checkpoint' | 'clearance'>): SourceUse {
  return { vendor: p.checkpoint.vendor, purpose: p.clearance.purpose as SourceUse['purpose'], baseModel: p.checkpoint.baseModel, at: new Date() };
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
 * One optimistic sign at a reserved index (steps 2 and 3 above). The gate's answer comes with the log's
 * size in its snapshot: the signature waits for both, and with `stopIfPassed` a log already past the index
 * stops the sign there (TipPassed), as a commit at that index would refuse anyway. A log short of it is
 * the signs before this one, not yet committed: they commit first or this one does not.
 */
async function signAtTip(
  app: OutputDeps,
  principal: Principal,
  plan: SignPlan,
  slot: IndexReservation,
  originalDigest: Promise<string>,
  fingerprinting: Promise<OutputSoftBinding>,
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
  // The manifest states the fingerprint (its soft binding), so c2pa-rs starts once libvips (or ffmpeg) has decoded.
  const fingerprint = await fingerprinting;
  let recording: Promise<OutputRow> | undefined;
  let signed: SignResult;
  try {
    signed = await signManifest(
      app,
      plan,
      fingerprint,
      slot.index,
      async () => {
        // The gate's refusal answers first: it holds whatever the log's size.
        const { refusal, logSize } = await gate;
        if (refusal) throw refusal;
        if (stopIfPassed && logSize > slot.index) throw new TipPassed(slot.index, logSize);
      },
      async (s) => {
        const hashes: OutputHashes = { signedSha256: sha256(s.bytes), originalSha256: await originalDigest, ...fingerprint };
        // Committed once the signs before it have been (the tip at its index), or not at all (LogMovedOn).
        recording = slot.tip().then((tip) => recordAt(app, principal, plan, tip, s, hashes));
        recording.then(
          () => slot.settle(true),
          () => slot.settle(false),
        );
        // Out on the wire before the read-back holds this thread (at once when nothing is before it).
        await statementsSent();
      },
    );
  } catch (e) {
    if (recording) await withdrawIfRecorded(app, principal, recording, e);
    else slot.settle(false);
    throw e;
  }
  return { bytes: signed.bytes, output: await recording! };
}

/** The careful way, when the log moved on during an optimistic sign: gate, sign and record under the lock. */
async function signUnderLock(
  app: OutputDeps,
  principal: Principal,
  plan: SignPlan,
  originalSha256: string,
  fingerprint: OutputSoftBinding,
): Promise<{ bytes: Uint8Array; output: OutputRow }> {
  let signed: SignResult | undefined;
  const output = await app.ledger.change(principal, async ({ tx, record }) => {
    const { refusal } = await generationGate(tx, plan.checkpoint, plan.clearance);
    if (refusal) throw refusal;
    refuseUnclearedSources(app.policies.current, await readSourceFacts(tx, plan.input.sourceAssetIds), sourceUse(plan));
    // Recorded first for its index; the content is completed below, before the entry is sealed.
    const event = record({ action: 'output.signed', subjectId: plan.id, content: {} });
    signed = await signManifest(app, plan, fingerprint, event.index);
    const hashes: OutputHashes = { originalSha256, signedSha256: sha256(signed.bytes), ...fingerprint };
    Object.assign(event.content, outputEvent(plan, signed, hashes).content);
    const [row] = await tx
      .insert(outputs)
      .values(outputValues(plan, signed, hashes, event))
      .returning()
      .prepare('outputs_insert')
      .execute();
    await tx.insert(outputManifestStores).values({ outputId: plan.id, store: signed.manifestStore });
    for (const f of fingerprintList(hashes)) await addFingerprint(tx, { outputId: plan.id, ...f });
    if (hashes.videoFingerprint) await addVideoFrames(tx, plan.id, hashes.videoFingerprint.frames);
    return row!;
  });
  return { bytes: signed!.bytes, output };
}

/**
 * Builds the manifest for audit index `auditIndex` and has c2pa-rs sign it. `beforeSignature` runs when
 * c2pa-rs asks for the signature (after it has hashed the file), and may refuse it: its error is the answer.
 */
async function signManifest(
  app: OutputDeps,
  plan: SignPlan,
  { fingerprints: fingerprint, videoFingerprint: video }: OutputSoftBinding,
  auditIndex: number,
  beforeSignature?: () => Promise<void>,
  onSigned?: (signed: SignResult) => Promise<void>,
): Promise<SignResult> {
  const { checkpoint, clearance, input } = plan;
  const manifest = buildOutputManifest({
    title: input.title,
    mimeType: plan.mimeType,
    allowFurtherTraining: app.config.outputs.allowFurtherTraining,
    promptDisclosure: app.config.outputs.promptDisclosure,
    claimGenerator: { name: 'Clearframe', version: '0.1.0' },
    softBinding: fingerprint ? { pdq: fingerprint.whole.value, centre: fingerprint.centre.value } : null,
    videoSoftBinding: video ? { frames: video.frames, durationMs: video.durationMs } : null,
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
