import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { inclusionProof, readEvent, treeSize } from '../audit/log-store.ts';
import { leafHash } from '../audit/merkle.ts';
import { signedTreeHead } from '../audit/service.ts';
import { checkpointStatus } from '../checkpoints/service.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import type { Queryable } from '../db/database.ts';
import { anyFingerprint, type FingerprintMatch, nearest } from '../fingerprints/store.ts';
import { anyVideoFrame, framesInSeconds, MAX_PROBES, outputsWithFramesNear, videoFramesOf } from '../fingerprints/video-store.ts';
import { clearances } from '../gate/tables.ts';
import { Problem } from '../http/problem.ts';
import { type Fingerprint, fingerprintImage } from '../media/fingerprint.ts';
import { fingerprintVideo, type VideoFrameFingerprint } from '../media/video-fingerprint.ts';
import { MIN_FRAME_QUALITY, matchVideo, type VideoMatch } from '../media/video-match.ts';
import { resolveMimeType } from '../provenance/c2pa/formats.ts';
import type { ReadResult } from '../provenance/c2pa/types.ts';
import type { OutputDeps } from './deps.ts';
import { canonicalOutputLineage, readOutputLineage } from './manifest.ts';
import { outputStandingOf } from './output-standing.ts';
import { sourceAssets } from './plan.ts';
import { readRefusal, SUPPORTED_TYPES_TEXT } from './problems.ts';
import { withdrawalView } from './reader.ts';
import { outputs, outputWithdrawals } from './tables.ts';
import { timeStampOf } from './verify-offline.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/**
 * The distributor's verdict on a file:
 *  - damaged: the file does not parse as its type, or carries a manifest store that cannot be read or
 *    validated (a changed box byte, an unknown signature algorithm, a pre-release manifest);
 *  - remote-manifest: the file names a manifest elsewhere (its URL is given) and carries none; the service
 *    never fetches it, so nothing is verified;
 *  - no-manifest: nothing to verify (no manifest store anywhere in the file), and its pixels match no output;
 *  - recovered: no manifest, but its pixels match one or more outputs this ledger signed (PDQ fingerprint
 *    within RECOVERY_THRESHOLD bits; a video's sampled frames, most of them, at one time offset): each
 *    candidate with its record, lineage, standing and proof. The bytes
 *    are not the signed ones (stripped, re-encoded, resized), so nothing about them is verified: it says
 *    which signed output this file looks like, not that it is one;
 *  - tampered: a manifest whose hashes no longer match the content (altered since signing);
 *  - untrusted: intact, but signed by no configured trust anchor (a manifest from elsewhere);
 *  - unregistered: trusted and intact, but not an output this ledger recorded;
 *  - verified: trusted, intact, and byte-for-byte an output this ledger recorded;
 *  - withdrawn: byte-for-byte an output this ledger recorded and then withdrew (its signed file failed the
 *    read-back, so it was never handed out): whatever its manifest says, no rights rest on it.
 * A CAWG identity assertion's credential counts like the claim's own: untrusted, not tampered
 * (`c2pa.identity` reports its status beside).
 * Standing (checkpoint taint, revoked or expired licenses) is reported beside the verdict: a verified
 * file can still be one whose rights have since fallen away.
 */
export const VERIFY_VERDICTS = ['damaged', 'remote-manifest', 'no-manifest', 'recovered', 'tampered', 'untrusted', 'unregistered', 'verified', 'withdrawn'] as const;

/**
 * Hamming distance (bits of 256) within which a file's PDQ fingerprint leads back to an output: 31, the
 * threshold Meta suggests for PDQ. Measured here (test/integration/outputs-softbinding.test.ts, sharp): a
 * 320 x 240 picture stripped and re-encoded as JPEG at quality 60 lands 2 to 10 bits from its original;
 * 780 pairs of unrelated generated pictures were at least 100 bits apart (random hashes: 128 on average).
 * A lookup within 31 bits is also what the chunk index answers with one-bit neighbourhoods (fingerprints/mih.ts).
 */
export const RECOVERY_THRESHOLD = 31;
/**
 * PDQ's own quality score below which PDQ alone is not matched on: flat or smooth images (a plain
 * gradient scores about 30) hash alike whatever they show, Meta's guidance being to discard hashes below
 * 50. Such a query is matched only where the colour layout agrees too (RECOVERY_LAYOUT_THRESHOLD).
 */
export const RECOVERY_MIN_QUALITY = 50;
/**
 * For a flat query (PDQ quality below RECOVERY_MIN_QUALITY), the colour layouts (media/colour-layout.ts,
 * level differences summed) within which a PDQ candidate is kept: its own copies stay within it, a
 * stranger that PDQ alone would confuse with it does not (docs/benchmarks.md, "softbinding").
 */
export const RECOVERY_LAYOUT_THRESHOLD = 8;
/** The still-image types the ledger fingerprints at signing (sign.ts). */
export const RECOVERABLE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
/** The video types the ledger fingerprints at signing by their frames (sign.ts). */
export const RECOVERABLE_VIDEO_TYPES = new Set(['video/mp4', 'video/quicktime']);
/** At most this many videos whose frames are near the copy's are matched against it (video-match.ts) for the candidates. */
const MAX_VIDEO_LOOKUPS = 20;
/** At most this many candidates, nearest first. */
const MAX_CANDIDATES = 5;
export type VerifyVerdict = (typeof VERIFY_VERDICTS)[number];

/** How a file's fingerprint is taken (libvips, then PDQ: `media/fingerprint.ts`); a port, so a test can see whether it was asked. */
export type FingerprintFile = (bytes: Uint8Array) => Promise<Fingerprint | null>;

export async function verifyFile(app: OutputDeps, bytes: Uint8Array, declaredType: string | undefined, fingerprintFile: FingerprintFile = fingerprintImage) {
  const mimeType = resolveMimeType(declaredType, bytes);
  if (!mimeType) throw new Problem(415, 'unsupported-media-type', `cannot verify ${declaredType ?? 'this'} file: send ${SUPPORTED_TYPES_TEXT}`);
  const db = app.database.db;
  // Two things at once: c2pa-rs reads the file on its read thread (the service's engine posts the read
  // within this call), while this thread hashes the file and asks the ledger for an output with exactly
  // these bytes, its standing and its proof. An altered file misses that lookup and is matched by its
  // manifest label after the read. Whatever the read says, the answer is built from both. Measured against
  // hashing on the read thread before its read: JPEG 1.25–1.33 → 1.13–1.19 × a bare read, MP4 1.27–1.28 →
  // 1.11–1.12 (docs/benchmarks.md). An engine that reads on this thread reads after the hash.
  const reading = app.c2pa.read({ bytes, mimeType });
  reading.catch(() => {}); // awaited below
  const digest = Promise.resolve(createHash('sha256').update(bytes).digest('hex'));
  const size = treeSize(db);
  const exactMatch = digest.then(async (sha256) => {
    const [row] = await withCheckpoint(db).where(eq(outputs.signedSha256, sha256)).prepare('verify_output_by_sha256').execute();
    return row ? { row, ...(await ledgerFacts(app, row, size)) } : null;
  });
  for (const p of [digest, size, exactMatch]) p.catch(() => {}); // each is awaited below where it is used

  let read: ReadResult;
  try {
    read = await reading;
  } catch (e) {
    const refused = readRefusal(e);
    if (!refused) throw e;
    return {
      verdict: refused.verdict as VerifyVerdict,
      detail: refused.detail,
      sha256: await digest,
      mimeType,
      // What c2pa-rs said: the codes it gives the failure, and the URL of a remote manifest (not fetched).
      c2pa: { codes: refused.codes, remoteUrl: refused.remoteUrl },
      ledger: null,
      lineage: null,
      standing: null,
      proof: null,
    };
  }
  const fileSha256 = await digest;
  if (read.kind !== 'manifest') {
    // Only a file without any manifest is looked up by its pixels: one with a manifest is judged by it.
    const recovered = RECOVERABLE_VIDEO_TYPES.has(mimeType) ? await recoverVideo(app, bytes, size) : await recover(app, bytes, mimeType, size, fingerprintFile);
    if (recovered) {
      const best = recovered.candidates[0]!;
      const outputsText = recovered.candidates.length === 1 ? 'an output' : `${recovered.candidates.length} outputs`;
      const how =
        'matched' in best
          ? `its frames match ${outputsText} this ledger signed (PDQ, ${best.matched} of ${best.of} sampled frames within ${RECOVERY_THRESHOLD} bits, a median ${best.distance} of 256 bits apart)`
          : `its pixels match ${outputsText} this ledger signed (PDQ, ${best.distance} of 256 bits apart, threshold ${RECOVERY_THRESHOLD})`;
      return {
        verdict: 'recovered' as VerifyVerdict,
        detail: `the file carries no C2PA manifest, but ${how}; ${BYTES_DIFFER}`,
        sha256: fileSha256,
        mimeType,
        c2pa: null,
        // The nearest candidate, as a verified file's answer gives its output; every one is in `recovery`.
        ledger: best.ledger,
        lineage: best.lineage,
        standing: best.standing,
        proof: best.proof,
        recovery: recovered,
      };
    }
    return {
      verdict: 'no-manifest' as VerifyVerdict,
      detail: 'the file carries no C2PA manifest',
      sha256: fileSha256,
      mimeType,
      c2pa: null,
      ledger: null,
      lineage: null,
      standing: null,
      proof: null,
    };
  }

  const exact = await exactMatch;
  let byLabel: Awaited<typeof exactMatch> = null;
  if (!exact) {
    const [row] = await withCheckpoint(db).where(eq(outputs.manifestLabel, read.activeManifestLabel)).prepare('verify_output_by_label').execute();
    byLabel = row ? { row, ...(await ledgerFacts(app, row, size)) } : null;
  }
  const found = exact ?? byLabel;
  const output = found?.row.output;
  const withdrawal = found?.row.withdrawal ?? null;
  const verdict: VerifyVerdict =
    exact && withdrawal ? 'withdrawn' : !read.intact ? 'tampered' : !read.trusted ? 'untrusted' : !exact ? (byLabel ? 'tampered' : 'unregistered') : 'verified';
  const detail = {
    tampered: 'the content no longer matches its signed manifest: it was altered after signing',
    untrusted: 'the manifest is intact but its signer does not chain to a trusted anchor',
    unregistered: 'a trusted, intact manifest, but not an output this ledger recorded',
    verified: 'signed by this ledger, unaltered, and recorded',
    withdrawn: `recorded by this ledger and then withdrawn, never handed out: ${withdrawal?.reason ?? ''}`,
  }[verdict as 'tampered' | 'untrusted' | 'unregistered' | 'verified' | 'withdrawn'];

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
      signer: signerOf(read.activeManifest),
      identity: read.identity,
    },
    ledger: output
      ? {
          match: exact ? ('exact' as const) : ('manifest-only' as const),
          outputId: output.id,
          signedSha256: output.signedSha256,
          auditIndex: output.auditIndex,
          withdrawal: withdrawalView(withdrawal),
        }
      : { match: 'none' as const },
    lineage: readOutputLineage(read),
    standing: found?.standing ?? null,
    proof: found?.proof ?? null,
  };
}

const BYTES_DIFFER = 'these bytes differ from the signed ones (stripped, re-encoded or edited since), so the file itself is not verified';

/**
 * Whether a file's pixels can lead anywhere: fingerprints are recorded at signing (OUTPUT_SOFT_BINDING=pdq),
 * or some were recorded before it was turned off. Otherwise nothing is decoded: no fingerprint could match.
 * Fingerprints are never deleted, so once one is seen the answer is kept for the database.
 */
export const fingerprintsSearchable = searchableOnceSeen(anyFingerprint);

/** The same for videos' frames: whether a video's frames can lead anywhere, or it need not be decoded at all. */
export const videoFramesSearchable = searchableOnceSeen(anyVideoFrame);

/** Searchable while soft binding is on, or once `anyRecorded` has found a row in the database (rows are never deleted). */
function searchableOnceSeen(anyRecorded: (db: Queryable) => Promise<boolean>) {
  const seen = new WeakSet<object>();
  return async (app: Pick<OutputDeps, 'config' | 'database'>): Promise<boolean> => {
    if (app.config.outputs.softBinding === 'pdq' || seen.has(app.database)) return true;
    if (!(await anyRecorded(app.database.db))) return false;
    seen.add(app.database);
    return true;
  };
}

/**
 * The fingerprint of a still image the ledger could match on: none when no fingerprint is registered (and
 * then the file is not decoded), or when it does not decode.
 */
export async function matchableFingerprint(app: OutputDeps, bytes: Uint8Array, fingerprintFile: FingerprintFile = fingerprintImage) {
  if (!(await fingerprintsSearchable(app))) return { kind: 'none-registered' as const };
  const fp = await fingerprintFile(bytes);
  if (!fp) return { kind: 'undecodable' as const };
  return { kind: 'fingerprint' as const, fingerprint: fp };
}

/** PDQ rows a query is compared with: the whole picture's and the centre's (a cropped copy is near the latter). */
export const PDQ_ROWS = ['pdq', 'pdq-centre'] as const;

/**
 * The outputs a file's fingerprint leads to, nearest first: PDQ (whole or centre) within RECOVERY_THRESHOLD;
 * for a flat picture, only those whose colour layout is also within RECOVERY_LAYOUT_THRESHOLD.
 */
export function outputsNear(db: Queryable, fp: Pick<Fingerprint, 'value' | 'quality' | 'colourLayout'>, limit: number): Promise<FingerprintMatch[]> {
  const flat = fp.quality < RECOVERY_MIN_QUALITY;
  return nearest(db, fp.value, RECOVERY_THRESHOLD, {
    algorithm: PDQ_ROWS,
    limit,
    ...(flat ? { agreeing: { algorithm: 'colour-layout', value: fp.colourLayout, threshold: RECOVERY_LAYOUT_THRESHOLD } } : {}),
  });
}

/**
 * The outputs whose fingerprint is near this file's, each as a verified file's answer would give it: record,
 * lineage (from the ledger, the manifest being gone), standing and proof. Null when the file is not a still
 * image the ledger fingerprints, has too little to recognise, or matches nothing.
 */
async function recover(app: OutputDeps, bytes: Uint8Array, mimeType: string, size: Promise<number>, fingerprintFile: FingerprintFile) {
  if (!RECOVERABLE_TYPES.has(mimeType)) return null;
  const taken = await matchableFingerprint(app, bytes, fingerprintFile);
  if (taken.kind !== 'fingerprint') return null;
  const fp = taken.fingerprint;
  const db = app.database.db;
  const matches = await outputsNear(db, fp, MAX_CANDIDATES);
  if (matches.length === 0) return null;
  const candidates = await Promise.all(
    matches.map((m) =>
      candidateOf(app, m.outputId, size, {
        distance: m.distance,
        threshold: RECOVERY_THRESHOLD,
        // Which of its fingerprints the file is near: the whole picture's, or its centre's (a cropped copy).
        region: m.algorithm === 'pdq-centre' ? ('centre' as const) : ('whole' as const),
        ...(fp.quality < RECOVERY_MIN_QUALITY ? { colourLayoutThreshold: RECOVERY_LAYOUT_THRESHOLD } : {}),
      }),
    ),
  );
  const found = candidates.filter((c) => c !== null);
  if (found.length === 0) return null;
  return {
    fingerprint: { algorithm: fp.algorithm, value: fp.value, quality: fp.quality },
    threshold: RECOVERY_THRESHOLD,
    statement: BYTES_DIFFER,
    candidates: found,
  };
}

/**
 * A candidate output as a verified file's answer would give it: how near the file is (`similarity`), then
 * its record, lineage (from the ledger, the manifest being gone), standing and proof.
 */
async function candidateOf<T extends object>(app: OutputDeps, outputId: string, size: Promise<number>, similarity: T) {
  const db = app.database.db;
  const [row] = await withCheckpoint(db).where(eq(outputs.id, outputId)).prepare('verify_output_by_id').execute();
  if (!row) return null; // a fingerprint is written with its output, so this is not expected
  const [facts, lineage] = await Promise.all([ledgerFacts(app, row, size), lineageFromRecord(app, row)]);
  return {
    outputId: row.output.id,
    ...similarity,
    ledger: {
      match: 'fingerprint' as const,
      outputId: row.output.id,
      signedSha256: row.output.signedSha256,
      auditIndex: row.output.auditIndex,
      withdrawal: withdrawalView(row.withdrawal),
    },
    lineage,
    ...facts,
  };
}

/**
 * The video outputs a video file's frames lead to (`media/video-fingerprint.ts`, then `video-match.ts`):
 * up to MAX_PROBES of the copy's frames (spread over it) are looked up through the chunk indexes, and each
 * output found is matched frame by frame against all of the copy's. Best first: the larger share of the
 * copy's frames matched, then the nearer. Null when no video frame could lead anywhere, the file does not
 * decode, has no frame with enough to recognise, or matches nothing.
 */
async function recoverVideo(app: OutputDeps, bytes: Uint8Array, size: Promise<number>) {
  if (!(await videoFramesSearchable(app))) return null;
  let fp: Awaited<ReturnType<typeof fingerprintVideo>>;
  try {
    fp = await fingerprintVideo(bytes);
  } catch (err) {
    // ffmpeg could not be run at all: nothing is recovered, and the fault is said (the file is not at fault).
    app.logger.error({ err }, 'a video could not be fingerprinted for verification: ffmpeg did not run');
    return null;
  }
  if (!fp) return null;
  const query = fp;
  const usable = query.frames.filter((f) => f.quality >= MIN_FRAME_QUALITY);
  if (usable.length === 0) return null;
  const db = app.database.db;
  const near = await outputsWithFramesNear(
    db,
    spread(usable, MAX_PROBES).map((f) => f.value),
    RECOVERY_THRESHOLD,
    MAX_VIDEO_LOOKUPS,
  );
  if (near.length === 0) return null;
  const registered = await videoFramesOf(
    db,
    near.map((n) => n.outputId),
  );
  const matched = near
    .flatMap((n) => {
      const frames = framesInSeconds(registered.get(n.outputId) ?? []);
      const m = matchVideo(frames, query.frames, RECOVERY_THRESHOLD);
      return m ? [{ outputId: n.outputId, m, frames }] : [];
    })
    .sort((a, b) => b.m.matched / b.m.of - a.m.matched / a.m.of || a.m.distance - b.m.distance || (a.outputId < b.outputId ? -1 : 1))
    .slice(0, MAX_CANDIDATES);
  if (matched.length === 0) return null;
  const candidates = await Promise.all(
    matched.map(({ outputId, m, frames }) =>
      candidateOf(app, outputId, size, {
        // The median distance of the matched frames.
        distance: m.distance,
        threshold: RECOVERY_THRESHOLD,
        matched: m.matched,
        of: m.of,
        offset: Math.round(m.offset * 1000),
        range: coveredRange(frames, m, query.duration),
      }),
    ),
  );
  const found = candidates.filter((c) => c !== null);
  if (found.length === 0) return null;
  return {
    videoFingerprint: { algorithm: 'pdq' as const, frames: query.frames.length, usable: usable.length, durationMs: Math.round(query.duration * 1000) },
    threshold: RECOVERY_THRESHOLD,
    statement: BYTES_DIFFER,
    candidates: found,
  };
}

/** At most `n` of `xs`, evenly spread, the first and the last among them. */
function spread<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]!);
}

/**
 * The stretch of the original the copy covers, in milliseconds (as the manifest's timespans): from its first
 * matched frame to where the copy ends in the original's time, but not past the timespan of its last
 * matched frame (up to the next sampled frame of the original).
 */
function coveredRange(registered: readonly VideoFrameFingerprint[], m: VideoMatch, queryDuration: number): { start: number; end: number } {
  const next = registered.find((f) => f.at > m.range.to);
  const copyEnds = m.offset + queryDuration;
  const end = next ? Math.min(next.at, copyEnds) : copyEnds;
  return { start: Math.round(m.range.from * 1000), end: Math.round(Math.max(end, m.range.to) * 1000) };
}

/** The lineage the output's manifest stated, rebuilt from its record (the same canonical form `readOutputLineage` gives). */
async function lineageFromRecord(app: OutputDeps, { output, checkpoint }: OutputMatch) {
  return canonicalOutputLineage(
    {
      outputId: output.id,
      checkpoint: { id: checkpoint.id, ref: checkpoint.vertexModel ?? checkpoint.externalRef ?? checkpoint.id, artifactDigest: checkpoint.artifactDigest },
      baseModel: checkpoint.baseModel,
      clearanceId: output.clearanceId,
      dataset: { id: output.datasetId, digest: output.datasetDigest },
      policyDigest: output.policyDigest,
      ledgerUrl: app.config.publicUrl,
      auditIndex: output.auditIndex,
      sourceAssets: await sourceAssets(app.database, output.sourceAssetIds),
      promptSha256: output.promptSha256,
      prompt: output.prompt,
      generator: output.generator,
    },
    { promptDisclosure: app.config.outputs.promptDisclosure },
  );
}

const withCheckpoint = (db: Queryable) =>
  db
    .select({ output: outputs, checkpoint: checkpoints, clearance: clearances, withdrawal: outputWithdrawals })
    .from(outputs)
    .innerJoin(checkpoints, eq(checkpoints.id, outputs.checkpointId))
    .innerJoin(clearances, eq(clearances.id, checkpoints.clearanceId))
    .leftJoin(outputWithdrawals, eq(outputWithdrawals.outputId, outputs.id));
type OutputMatch = {
  output: typeof outputs.$inferSelect;
  checkpoint: typeof checkpoints.$inferSelect;
  clearance: typeof clearances.$inferSelect;
  withdrawal: typeof outputWithdrawals.$inferSelect | null;
};

/** Standing and proof of a registered output: independent reads, asked at once. */
async function ledgerFacts(app: OutputDeps, row: OutputMatch, size: Promise<number>) {
  const [standing, proof] = await Promise.all([outputStanding(app, row), registrationProof(app, row.output.auditIndex, size)]);
  return { standing, proof };
}

/**
 * Whether the rights under an output still hold: `status` (good, tainted, withdrawn) and its `cause`
 * (output-standing.ts), then its checkpoint's status and its clearance's standing, with their causes.
 */
async function outputStanding(app: OutputDeps, { checkpoint, clearance, withdrawal }: OutputMatch) {
  const s = await checkpointStatus(app.database.db, checkpoint, new Date(), { clearance });
  return {
    ...outputStandingOf({ withdrawal, checkpoint: s, clearance: s.standing }),
    checkpoint: { id: checkpoint.id, status: s.status, causes: s.causes },
    clearance: { id: s.clearance.id, standing: s.standing.status, causes: s.standing.causes },
  };
}

/**
 * The inclusion proof of the output's registration entry against a freshly signed tree head (of the tree
 * size `sizeNow` when the caller has asked for it already, read at the start of its request).
 */
export async function registrationProof(app: OutputDeps, index: number, sizeNow?: Promise<number>) {
  const db = app.database.db;
  const size = await (sizeNow ?? treeSize(db));
  const [head, event, hashes] = await Promise.all([signedTreeHead(db, app.config.auditOrigin, app.keyring.audit, size), readEvent(db, index), inclusionProof(db, index, size)]);
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

/**
 * Who signed, as the claim signature's certificate names them (c2pa-rs' `signature_info`), and when the
 * signature says it was made: what a reader is shown beside the trust verdict.
 */
function signerOf(manifest: { signature_info?: { alg?: string; issuer?: string; common_name?: string; cert_serial_number?: string; time?: string } }) {
  const info = manifest.signature_info;
  if (!info) return null;
  return {
    commonName: info.common_name ?? null,
    issuer: info.issuer ?? null,
    serialNumber: info.cert_serial_number ?? null,
    alg: info.alg ?? null,
    time: info.time ?? null,
  };
}
