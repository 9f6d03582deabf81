import type { Queryable } from '../db/database.ts';
import type { Signer } from '../signing/signer.ts';
import type { EvidenceBundle } from './bundle.ts';
import { inclusionProof, readEvents, treeSize } from './log-store.ts';
import { auditVerifierKey, signedTreeHead } from './service.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** Entries [from, to) with a fresh checkpoint and an inclusion proof for each. */
export async function exportEvidence(q: Queryable, origin: string, signer: Signer, from: number, to?: number): Promise<EvidenceBundle> {
  const size = await treeSize(q);
  const end = Math.min(to ?? size, size);
  if (from < 0 || from >= end) throw new Error(`nothing to export: the log has ${size} entries, asked for ${from}..${end}`);
  const head = await signedTreeHead(q, origin, signer, size);
  const events = await readEvents(q, from, end - from);
  const entries = [];
  for (const e of events) {
    const { leaf, ...event } = e;
    entries.push({ index: e.index, leaf: b64(leaf), event, inclusionProof: (await inclusionProof(q, e.index, size)).map(b64) });
  }
  return {
    format: 'clearframe-audit-evidence/v1',
    origin,
    verifierKey: auditVerifierKey(origin, signer),
    checkpoint: head.note,
    exportedAt: new Date().toISOString(),
    from,
    to: end,
    entries,
  };
}
