import { createHash } from 'node:crypto';
import { type EvidenceBundle, verifyBundle } from '../audit/bundle.ts';
import { resolveMimeType } from '../provenance/c2pa/formats.ts';
import type { ManifestEngine, ReadResult } from '../provenance/c2pa/types.ts';
import { readOutputLineage } from './manifest.ts';
import { readRefusal, SUPPORTED_TYPES_TEXT } from './problems.ts';

/**
 * `clearframe verify FILE` without a server: the manifest against the given trust anchors, its lineage,
 * and, given a saved evidence bundle, that the bundle proves the output's registration entry and that the
 * entry names this very file (its signed sha256).
 */
export async function verifyOffline(engine: ManifestEngine, bytes: Uint8Array, opts: { mimeType?: string; bundle?: EvidenceBundle; verifierKey?: string }) {
  const mimeType = resolveMimeType(opts.mimeType, bytes);
  if (!mimeType) return { verdict: 'unsupported' as const, detail: `not a ${SUPPORTED_TYPES_TEXT} file` };
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let read;
  try {
    read = await engine.read({ bytes, mimeType });
  } catch (e) {
    // The service's reading of a refused read (problems.ts), so the two agree on every file.
    const refused = readRefusal(e);
    if (!refused) throw e;
    return { verdict: refused.verdict, detail: refused.detail, sha256, c2pa: { codes: refused.codes, remoteUrl: refused.remoteUrl } };
  }
  if (read.kind !== 'manifest') return { verdict: 'no-manifest' as const, sha256 };
  const lineage = readOutputLineage(read);
  const verdict = !read.intact ? 'tampered' : !read.trusted ? 'untrusted' : 'valid';
  const result = {
    verdict: verdict as 'tampered' | 'untrusted' | 'valid',
    sha256,
    c2pa: {
      validationState: read.validationState,
      trusted: read.trusted,
      intact: read.intact,
      failureCodes: read.failureCodes,
      timeStamp: timeStampOf(read),
      identity: read.identity,
    },
    lineage,
    evidence: null as null | { ok: boolean; reasons: string[] },
  };
  if (opts.bundle) {
    const reasons: string[] = [];
    const checked = await verifyBundle(opts.bundle, opts.verifierKey);
    if (!checked.ok) reasons.push(...checked.failures.map((f) => `bundle: ${f.reason}${f.index !== undefined ? ` (entry ${f.index})` : ''}`));
    const entry = lineage ? opts.bundle.entries.find((e) => e.index === lineage.auditIndex) : undefined;
    if (!lineage) reasons.push('the file carries no Clearframe lineage');
    else if (!entry) reasons.push(`the bundle does not hold entry ${lineage.auditIndex}, the output's registration`);
    else {
      const event = JSON.parse(Buffer.from(entry.leaf, 'base64').toString('utf8')) as { action?: string; subjectId?: string; content?: { signedSha256?: string } };
      if (event.action !== 'output.signed' || event.subjectId !== lineage.outputId) reasons.push(`entry ${entry.index} is not the registration of ${lineage.outputId}`);
      else if (event.content?.signedSha256 !== sha256) reasons.push('the registered output is not this file: it was changed after signing');
    }
    result.evidence = { ok: reasons.length === 0, reasons };
  }
  return result;
}

/**
 * The RFC 3161 time of the signature, when the manifest carries a token c2pa-rs validated (it reports
 * the token's genTime as the signing time); `trusted` when the TSA chains to a trust anchor too.
 */
export function timeStampOf(read: Extract<ReadResult, { kind: 'manifest' }>): { time: string; trusted: boolean } | null {
  const time = read.activeManifest.signature_info?.time;
  const codes = new Set(read.validation.success.map((s) => s.code));
  if (!time || !codes.has('timeStamp.validated')) return null;
  return { time: new Date(time).toISOString(), trusted: codes.has('timeStamp.trusted') };
}
