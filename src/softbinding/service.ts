/**
 * The C2PA Soft Binding Resolution API over the ledger's outputs: a manifest is found by its output's PDQ
 * fingerprint (`fingerprints/store.ts`, within the threshold `/v1/verify` recovers at), given as a binding
 * value or taken from an uploaded file (decoded only when fingerprints are registered, as verify does).
 * A manifest's identifier is the label of the output's active manifest (`outputs.manifest_label`).
 */
import { eq, inArray } from 'drizzle-orm';
import { type FingerprintMatch, nearest } from '../fingerprints/store.ts';
import { Problem, problems } from '../http/problem.ts';
import type { OutputDeps } from '../outputs/deps.ts';
import { outputManifestStores, outputs } from '../outputs/tables.ts';
import { type FingerprintFile, matchableFingerprint, outputsNear, PDQ_ROWS, RECOVERABLE_TYPES, RECOVERY_THRESHOLD } from '../outputs/verify.ts';
import { resolveMimeType } from '../provenance/c2pa/formats.ts';
import { isSupportedAlgorithm, pdqHexOfBinding, SUPPORTED_ALGORITHMS, similarityScore } from './query.ts';

/** One match: the API's fields, then Clearframe's (which output, and how near). */
export type SoftBindingMatch = { manifestId: string; similarityScore: number; outputId: string; distance: number; threshold: number };

const unsupported = (alg: string) =>
  problems.badRequest(`unknown soft binding algorithm ${JSON.stringify(alg)}: this service answers for ${SUPPORTED_ALGORITHMS.fingerprints.map((f) => f.alg).join(', ')}`, [
    { field: 'alg', message: 'not supported' },
  ]);

export async function matchesByBinding(app: OutputDeps, alg: string, value: string, maxResults: number): Promise<SoftBindingMatch[]> {
  if (!isSupportedAlgorithm(alg)) throw unsupported(alg);
  const hex = pdqHexOfBinding(value);
  if (!hex) throw problems.badRequest('the value is not a PDQ hash: 32 bytes in base64, or 64 hex digits', [{ field: 'value', message: 'not 256 bits' }]);
  return matchesOf(app, await nearest(app.database.db, hex, RECOVERY_THRESHOLD, { algorithm: PDQ_ROWS, limit: maxResults }));
}

export async function matchesByContent(
  app: OutputDeps,
  bytes: Uint8Array,
  declaredType: string | undefined,
  opts: { alg?: string | undefined; maxResults: number; fingerprintFile?: FingerprintFile },
): Promise<SoftBindingMatch[]> {
  if (opts.alg !== undefined && !isSupportedAlgorithm(opts.alg)) throw unsupported(opts.alg);
  const mimeType = resolveMimeType(declaredType, bytes);
  if (!mimeType || !RECOVERABLE_TYPES.has(mimeType)) throw new Problem(415, 'unsupported-media-type', 'matched by content: a JPEG, PNG or WebP image');
  const taken = await matchableFingerprint(app, bytes, opts.fingerprintFile);
  if (taken.kind === 'undecodable') throw problems.badRequest(`the file does not decode as ${mimeType}`, [{ field: 'body', message: 'does not decode' }]);
  // Nothing registered: no match, as the API puts it.
  if (taken.kind !== 'fingerprint') return [];
  return matchesOf(app, await outputsNear(app.database.db, taken.fingerprint, opts.maxResults));
}

async function matchesOf(app: OutputDeps, near: FingerprintMatch[]): Promise<SoftBindingMatch[]> {
  const db = app.database.db;
  if (near.length === 0) return [];
  const labels = new Map(
    (
      await db
        .select({ id: outputs.id, manifestLabel: outputs.manifestLabel })
        .from(outputs)
        .where(inArray(outputs.id, [...new Set(near.map((m) => m.outputId))]))
    ).map((r) => [r.id, r.manifestLabel]),
  );
  return near.flatMap((m) => {
    const manifestId = labels.get(m.outputId);
    // A fingerprint is written with its output, so an output is always there.
    if (!manifestId) return [];
    return [{ manifestId, similarityScore: similarityScore(m.distance, RECOVERY_THRESHOLD), outputId: m.outputId, distance: m.distance, threshold: RECOVERY_THRESHOLD }];
  });
}

/**
 * The manifest store of the output whose active manifest is `manifestId`: the JUMBF c2pa-rs embedded when
 * the output was signed (kept with the output, its SHA-256 in the output's entry). An output signed before
 * stores were kept has none: a 404 naming the output, whose record stands for it.
 */
export async function manifestStoreById(app: OutputDeps, manifestId: string): Promise<{ outputId: string; store: Uint8Array }> {
  const [row] = await app.database.db
    .select({ id: outputs.id, signedSha256: outputs.signedSha256, store: outputManifestStores.store })
    .from(outputs)
    .leftJoin(outputManifestStores, eq(outputManifestStores.outputId, outputs.id))
    .where(eq(outputs.manifestLabel, manifestId))
    .limit(1);
  if (!row) throw new Problem(404, 'not-found', 'no output of this ledger has this manifest');
  if (!row.store)
    throw new Problem(
      404,
      'not-found',
      `this ledger signed the manifest (output ${row.id}) before it kept manifest stores; the output's record, lineage and standing are at /v1/outputs/${row.id}, and the signed file itself verifies at /v1/verify`,
      { outputId: row.id, signedSha256: row.signedSha256, record: `/v1/outputs/${row.id}` },
    );
  return { outputId: row.id, store: row.store };
}
