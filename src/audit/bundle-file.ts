import { createReadStream } from 'node:fs';
import { BundleChecker, type BundleEntry, type BundleHeader, type BundleVerdict } from './bundle.ts';
import { BundleDocumentReader, BundleSyntaxError } from './bundle-json.ts';

export { BundleSyntaxError };

/** The members a bundle states before its entries, so that they can be checked as they are read. */
const HEADER_KEYS = ['format', 'origin', 'verifierKey', 'checkpoint', 'exportedAt', 'from', 'to'] as const;

export type BundleReadOptions = {
  /** Called now and then with the number of entries checked so far. */
  onProgress?: (entriesChecked: number) => void;
  /** Entries between two onProgress calls. */
  progressEvery?: number;
};

/**
 * Checks a bundle from a stream of its text (a file, stdin) as it is read: each entry is checked and
 * dropped, so memory stays that of one entry for any number of entries. A bundle that names its
 * checkpoint and range only after its entries (not what `audit export` writes) is checked once it is
 * read whole, its entries held until then; the verdict is the same either way.
 */
export async function verifyBundleText(text: AsyncIterable<string | Buffer>, trustedVerifierKey?: string, opts: BundleReadOptions = {}): Promise<BundleVerdict> {
  const header: Record<string, unknown> = {};
  const late: string[] = [];
  let checker: BundleChecker | undefined;
  let held: BundleEntry[] | undefined;
  let checked = 0;
  const every = opts.progressEvery ?? 50_000;
  const reader = new BundleDocumentReader({
    member(key, value) {
      if ((HEADER_KEYS as readonly string[]).includes(key)) {
        // Streamed, a member after the entries would have changed how they were checked: refuse it.
        if (checker) late.push(key);
        header[key] = value;
      }
    },
    entriesStart() {
      if (typeof header.checkpoint === 'string' && 'from' in header && 'to' in header) checker = new BundleChecker(header as BundleHeader, trustedVerifierKey);
      else held = [];
    },
    entry(value) {
      const entry = value as BundleEntry;
      if (checker) {
        checker.entry(entry);
        checked += 1;
        if (opts.onProgress && checked % every === 0) opts.onProgress(checked);
      } else held?.push(entry);
    },
  });
  for await (const chunk of text) reader.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
  reader.end();
  if (!checker) {
    checker = new BundleChecker(header as BundleHeader, trustedVerifierKey);
    for (const entry of held ?? []) checker.entry(entry);
  }
  const verdict = checker.finish();
  if (late.length > 0) {
    const reason = `the bundle states ${[...new Set(late)].join(', ')} again after its entries`;
    return { ...verdict, ok: false, failures: [{ reason }, ...verdict.failures] };
  }
  return verdict;
}

/** verifyBundleText over a file, read in 1 MiB chunks (decoded as UTF-8 across chunk edges). */
export function verifyBundleFile(file: string, trustedVerifierKey?: string, opts: BundleReadOptions = {}): Promise<BundleVerdict> {
  return verifyBundleText(createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), trustedVerifierKey, opts);
}
