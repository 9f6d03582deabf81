import type { Writable } from 'node:stream';
import type { Queryable } from '../db/database.ts';
import type { Signer } from '../signing/signer.ts';
import { BUNDLE_FORMAT, type BundleEntry, type BundleHeader, type EvidenceBundle } from './bundle.ts';
import { nodeKey, readEvents, readNodes, treeSize } from './log-store.ts';
import { assembleProof, inclusionProofPlan, type NodeId } from './merkle.ts';
import { auditVerifierKey, signedTreeHead } from './service.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/**
 * Entries read per statement. Pages are aligned to multiples of this size, so the proofs of a page's
 * entries share all but the nodes inside the page's own subtree: one read of about 2 × PAGE nodes.
 */
export const EXPORT_PAGE_SIZE = 1024;

export type ExportOptions = {
  pageSize?: number;
  /** Called as each page of entries has been read (with its proofs), before its entries are handed on. */
  onPage?: (page: { from: number; to: number }) => void;
};

/** A bundle as it is read: its header, then its entries a page at a time. */
export type EvidenceStream = { header: BundleHeader; treeSize: number; pages: AsyncGenerator<BundleEntry[]> };

/**
 * Entries [from, to) with a fresh checkpoint and an inclusion proof for each, as a stream: the header,
 * then the entries page by page as they are read, each proof assembled from the stored nodes of the
 * checkpoint's tree. At most two pages are held (the one handed on and the next, read meanwhile).
 */
export async function streamEvidence(q: Queryable, origin: string, signer: Signer, from: number, to?: number, opts: ExportOptions = {}): Promise<EvidenceStream> {
  const size = await treeSize(q);
  const end = Math.min(to ?? size, size);
  if (from < 0 || from >= end) throw new Error(`nothing to export: the log has ${size} entries, asked for ${from}..${end}`);
  const head = await signedTreeHead(q, origin, signer, size);
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    origin,
    verifierKey: auditVerifierKey(origin, signer),
    checkpoint: head.note,
    exportedAt: new Date().toISOString(),
    from,
    to: end,
  };
  const pageSize = opts.pageSize ?? EXPORT_PAGE_SIZE;
  const pageEnd = (at: number) => Math.min(end, (Math.floor(at / pageSize) + 1) * pageSize);
  const readPage = async (a: number): Promise<BundleEntry[]> => {
    const b = pageEnd(a);
    const events = await readEvents(q, a, b - a);
    const missing = events.findIndex((e, i) => e.index !== a + i);
    if (missing !== -1 || events.length !== b - a) {
      throw new Error(`the audit log is damaged: entry ${a + (missing === -1 ? events.length : missing)} is missing; run clearframe audit verify`);
    }
    const plans = events.map((e) => inclusionProofPlan(e.index, size));
    const nodes = await readNodes(q, pageNodeIds(plans));
    const lookup = (id: NodeId) => {
      const h = nodes.get(nodeKey(id));
      if (!h) throw new Error(`the audit log is damaged: it is missing node ${nodeKey(id)}; run clearframe audit verify`);
      return h;
    };
    // Most of a page's proofs share their upper elements: each element is hashed and encoded once a page.
    const encoded = new Map<string, string>();
    const element = (ids: readonly NodeId[]) => {
      const key = ids.length === 1 ? nodeKey(ids[0]!) : `${nodeKey(ids[0]!)}+${ids.length}`;
      let text = encoded.get(key);
      if (text === undefined) {
        text = b64(assembleProof([ids], lookup)[0]!);
        encoded.set(key, text);
      }
      return text;
    };
    const page = events.map(({ leaf, ...event }, i) => ({ index: event.index, leaf: b64(leaf), event, inclusionProof: plans[i]!.map(element) }));
    opts.onPage?.({ from: a, to: b });
    return page;
  };
  async function* pages(): AsyncGenerator<BundleEntry[]> {
    let next: Promise<BundleEntry[]> | undefined = readPage(from);
    let at = from;
    while (next) {
      const page: BundleEntry[] = await next;
      at = pageEnd(at);
      next = at < end ? readPage(at) : undefined;
      // The next page's read is under way: keep it from being reported unhandled if the consumer stops.
      next?.catch(() => {});
      yield page;
    }
  }
  return { header, treeSize: size, pages: pages() };
}

/** The distinct nodes of a page's proof plans (a number per node: index·64 + level, exact below 2^47 leaves). */
function pageNodeIds(plans: readonly NodeId[][][]): NodeId[] {
  const seen = new Map<number, NodeId>();
  for (const plan of plans) for (const element of plan) for (const id of element) seen.set(id.index * 64 + id.level, id);
  return [...seen.values()];
}

/** The whole bundle in memory: for small ranges (an output's registration, tests). */
export async function exportEvidence(q: Queryable, origin: string, signer: Signer, from: number, to?: number, opts: ExportOptions = {}): Promise<EvidenceBundle> {
  const { header, pages } = await streamEvidence(q, origin, signer, from, to, opts);
  const all: BundleEntry[] = [];
  for await (const page of pages) all.push(...page);
  return { ...header, entries: all };
}

export type WrittenBundle = { entries: number; from: number; to: number; treeSize: number; bytes: number };

/**
 * Writes a bundle as one JSON document (the v1 format, unchanged), incrementally: the header, then one
 * entry per line as pages are read, waiting for the destination to drain. The destination is left open.
 */
export async function writeEvidence(stream: EvidenceStream, out: Writable, onProgress?: (written: number, total: number) => void): Promise<WrittenBundle> {
  const { header, pages } = stream;
  const total = header.to! - header.from!;
  const headText = JSON.stringify(header, null, 2);
  let bytes = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await drained(out);
  };
  await write(`${headText.slice(0, headText.lastIndexOf('\n}'))},\n  "entries": [\n`);
  let written = 0;
  // One write per page, as it is read: the destination's pace holds back the next page's read.
  for await (const page of pages) {
    await write(page.map((entry, i) => `${written + i === 0 ? '' : ',\n'}    ${JSON.stringify(entry)}`).join(''));
    written += page.length;
    onProgress?.(written, total);
  }
  await write('\n  ]\n}\n');
  return { entries: written, from: header.from!, to: header.to!, treeSize: stream.treeSize, bytes };
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', ok);
      out.off('error', done);
      out.off('close', closed);
      if (err) reject(err);
      else resolve();
    };
    const ok = () => done();
    const closed = () => done(new Error('the output closed before the bundle was written'));
    out.once('drain', ok);
    out.once('error', done);
    out.once('close', closed);
  });
}
