import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { AppContext } from '../app-context.ts';
import { inclusionProof, readEvent, treeSize } from '../audit/log-store.ts';
import { leafHash } from '../audit/merkle.ts';
import { signedTreeHead } from '../audit/service.ts';
import { checkpointStatus } from '../checkpoints/service.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import { C2paError } from '../provenance/c2pa/errors.ts';
import { resolveMimeType } from '../provenance/c2pa/formats.ts';
import type { ReadResult } from '../provenance/c2pa/types.ts';
import { readOutputLineage } from './manifest.ts';
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
  const fileSha256 = createHash('sha256').update(bytes).digest('hex');

  let read: ReadResult;
  try {
    read = await app.c2pa.read({ bytes, mimeType });
  } catch (e) {
    if (e instanceof C2paError && (e.code === 'asset_parse_error' || e.code === 'manifest_parse_error' || e.code === 'unsupported_media_type')) {
      return { verdict: 'damaged' as VerifyVerdict, detail: e.message, sha256: fileSha256, mimeType, c2pa: null, ledger: null, lineage: null, standing: null, proof: null };
    }
    throw e;
  }
  if (read.kind !== 'manifest') {
    return { verdict: 'no-manifest' as VerifyVerdict, detail: 'the file carries no C2PA manifest', sha256: fileSha256, mimeType, c2pa: null, ledger: null, lineage: null, standing: null, proof: null };
  }

  const db = app.database.db;
  const [exact] = await db.select().from(outputs).where(eq(outputs.signedSha256, fileSha256));
  const [byLabel] = exact ? [exact] : await db.select().from(outputs).where(eq(outputs.manifestLabel, read.activeManifestLabel));
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
  const [standing, proof] = output ? await Promise.all([outputStanding(app, output.checkpointId), registrationProof(app, output.auditIndex)]) : [null, null];
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
    },
    ledger: output ? { match: exact ? ('exact' as const) : ('manifest-only' as const), outputId: output.id, signedSha256: output.signedSha256, auditIndex: output.auditIndex } : { match: 'none' as const },
    lineage: readOutputLineage(read),
    standing,
    proof,
  };
}

/** Whether the rights under an output still hold: its checkpoint's status, with the causes. */
async function outputStanding(app: AppContext, checkpointId: string) {
  const [row] = await app.database.db.select().from(checkpoints).where(eq(checkpoints.id, checkpointId));
  const s = await checkpointStatus(app.database.db, row!);
  return { checkpoint: { id: row!.id, status: s.status, causes: s.causes }, clearance: { id: s.clearance.id, standing: s.standing.status, causes: s.standing.causes } };
}

/** The inclusion proof of the output's registration entry against a freshly signed tree head. */
export async function registrationProof(app: AppContext, index: number) {
  const db = app.database.db;
  const size = await treeSize(db);
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
