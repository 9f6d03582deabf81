import { eq } from 'drizzle-orm';
import type { AppContext } from '../app-context.ts';
import { inclusionProof, readEvent, treeSize } from '../audit/log-store.ts';
import { leafHash } from '../audit/merkle.ts';
import { signedTreeHead } from '../audit/service.ts';
import { checkpointStatus } from '../checkpoints/service.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import { sha256OnThreadPool } from '../provenance/c2pa/c2pa-wasm.ts';
import { C2paError } from '../provenance/c2pa/errors.ts';
import { resolveMimeType } from '../provenance/c2pa/formats.ts';
import type { ReadResult } from '../provenance/c2pa/types.ts';
import { readOutputLineage } from './manifest.ts';
import { timeStampOf } from './verify-offline.ts';
import { outputs } from './tables.ts';
import { Problem } from '../http/problem.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/**
 * The distributor's verdict on a file:
 *  - damaged: the file does not parse as its type;
 *  - no-manifest: nothing to verify;
 *  - tampered: a manifest whose hashes no longer match the content (altered since signing);
 *  - untrusted: intact, but signed by no configured trust anchor (a manifest from elsewhere);
 *  - unregistered: trusted and intact, but not an output this ledger recorded;
 *  - verified: trusted, intact, and byte-for-byte an output this ledger recorded.
 * Standing (checkpoint taint, revoked or expired licenses) is reported beside the verdict: a verified
 * file can still be one whose rights have since fallen away.
 */
export type VerifyVerdict = 'damaged' | 'no-manifest' | 'tampered' | 'untrusted' | 'unregistered' | 'verified';

export async function verifyFile(app: AppContext, bytes: Uint8Array, declaredType: string | undefined) {
  const mimeType = resolveMimeType(declaredType, bytes);
  if (!mimeType) throw new Problem(415, 'unsupported-media-type', `cannot verify ${declaredType ?? 'this'} file: send JPEG, PNG, WebP, MP4 or MOV`);
  // The file's hash runs on the thread pool while c2pa-rs reads the file on this thread.
  const digest = sha256OnThreadPool(bytes);
  digest.catch(() => {}); // awaited on every path below

  let read: ReadResult;
  try {
    read = await app.c2pa.read({ bytes, mimeType });
  } catch (e) {
    if (e instanceof C2paError && (e.code === 'asset_parse_error' || e.code === 'manifest_parse_error' || e.code === 'unsupported_media_type')) {
      return { verdict: 'damaged' as VerifyVerdict, detail: e.message, sha256: await digest, mimeType, c2pa: null, ledger: null, lineage: null, standing: null, proof: null };
    }
    await digest.catch(() => {});
    throw e;
  }
  const fileSha256 = await digest;
  if (read.kind !== 'manifest') {
    return { verdict: 'no-manifest' as VerifyVerdict, detail: 'the file carries no C2PA manifest', sha256: fileSha256, mimeType, c2pa: null, ledger: null, lineage: null, standing: null, proof: null };
  }

  const db = app.database.db;
  // The ledger match (with its checkpoint) and the tree size for the proof, at once; then standing and
  // proof at once: two round trips after the read.
  const size = treeSize(db);
  size.catch(() => {}); // awaited below when there is a match; unused (and harmless) when there is none
  const withCheckpoint = () => db.select({ output: outputs, checkpoint: checkpoints }).from(outputs).innerJoin(checkpoints, eq(checkpoints.id, outputs.checkpointId));
  // Named statements: one round trip each once prepared on a connection (see src/outputs/service.ts).
  const [exactRow] = await withCheckpoint().where(eq(outputs.signedSha256, fileSha256)).prepare('verify_output_by_sha256').execute();
  const exact = exactRow?.output;
  const [byLabelRow] = exactRow ? [exactRow] : await withCheckpoint().where(eq(outputs.manifestLabel, read.activeManifestLabel)).prepare('verify_output_by_label').execute();
  const byLabel = byLabelRow?.output;
  const output = exact ?? byLabel;
  const verdict: VerifyVerdict =
    !read.intact ? 'tampered'
    : !read.trusted ? 'untrusted'
    : !exact ? (byLabel ? 'tampered' : 'unregistered')
    : 'verified';
  const detail = {
    tampered: 'the content no longer matches its signed manifest: it was altered after signing',
    untrusted: 'the manifest is intact but its signer does not chain to a trusted anchor',
    unregistered: 'a trusted, intact manifest, but not an output this ledger recorded',
    verified: 'signed by this ledger, unaltered, and recorded',
  }[verdict as 'tampered' | 'untrusted' | 'unregistered' | 'verified'];

  // Standing and proof are independent reads: ask for both at once.
  const [standing, proof] = output ? await Promise.all([outputStanding(app, byLabelRow!.checkpoint), registrationProof(app, output.auditIndex, size)]) : [null, null];
  return {
    verdict,
    detail,
    sha256: fileSha256,
    mimeType,
    c2pa: {
      validationState: read.validationState,
      trusted: read.trusted,
      intact: read.intact,
      activeManifest: read.activeManifestLabel,
      failureCodes: read.failureCodes,
      successCodes: read.validation.success.map((s) => s.code),
      timeStamp: timeStampOf(read),
    },
    ledger: output ? { match: exact ? ('exact' as const) : ('manifest-only' as const), outputId: output.id, signedSha256: output.signedSha256, auditIndex: output.auditIndex } : { match: 'none' as const },
    lineage: readOutputLineage(read),
    standing,
    proof,
  };
}

/** Whether the rights under an output still hold: its checkpoint's status, with the causes. */
async function outputStanding(app: AppContext, row: typeof checkpoints.$inferSelect) {
  const s = await checkpointStatus(app.database.db, row);
  return { checkpoint: { id: row.id, status: s.status, causes: s.causes }, clearance: { id: s.clearance.id, standing: s.standing.status, causes: s.standing.causes } };
}

/**
 * The inclusion proof of the output's registration entry against a freshly signed tree head (of the tree
 * size `sizeNow` when the caller has asked for it already, read at the start of its request).
 */
export async function registrationProof(app: AppContext, index: number, sizeNow?: Promise<number>) {
  const db = app.database.db;
  const size = await (sizeNow ?? treeSize(db));
  const [head, event, hashes] = await Promise.all([
    signedTreeHead(db, app.config.auditOrigin, app.keyring.audit, size),
    readEvent(db, index),
    inclusionProof(db, index, size),
  ]);
  return {
    index,
    treeSize: size,
    leaf: b64(event!.leaf),
    leafHash: b64(leafHash(event!.leaf)),
    hashes: hashes.map(b64),
    checkpoint: head.note,
    verifierKey: '/v1/audit/key',
  };
}
