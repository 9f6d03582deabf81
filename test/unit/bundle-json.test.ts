import { describe, expect, it } from 'vitest';
import { BundleDocumentReader, BundleSyntaxError } from '../../src/audit/bundle-json.ts';

/** Reads `text` in chunks of `size`, recording what the reader hands over and the most it held. */
function read(text: string, size: number) {
  const seen: unknown[] = [];
  const reader = new BundleDocumentReader({
    member: (key, value) => seen.push({ member: key, value }),
    entriesStart: () => seen.push('entries'),
    entry: (value) => seen.push(value),
  });
  let held = 0;
  for (let i = 0; i < text.length; i += size) {
    reader.push(text.slice(i, i + size));
    held = Math.max(held, reader.bufferedChars);
  }
  reader.end();
  return { seen, held };
}

describe('reading a bundle document as it arrives', () => {
  const doc = {
    format: 'f',
    from: 3,
    to: 1e3,
    flag: true,
    none: null,
    nested: { a: [1, { b: '}]"\\' }] },
    entries: [{ index: 3, s: 'a "quoted" \\ }, ] string' }, { index: 4, n: -1.5e-3 }, [], 7, 'x'],
    after: 'z',
  };

  it('hands over the same values as JSON.parse, in order, whatever the chunk edges', () => {
    const expected = [
      { member: 'format', value: 'f' },
      { member: 'from', value: 3 },
      { member: 'to', value: 1000 },
      { member: 'flag', value: true },
      { member: 'none', value: null },
      { member: 'nested', value: doc.nested },
      'entries',
      ...doc.entries,
      { member: 'after', value: 'z' },
    ];
    for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 2), ` \n${JSON.stringify(doc, null, '\t')}\n `]) {
      for (const size of [1, 2, 3, 7, 64, text.length]) expect(read(text, size).seen).toEqual(expected);
    }
  });

  it('holds one entry at a time, not the document', () => {
    const entry = { index: 0, leaf: 'x'.repeat(1000), inclusionProof: Array.from({ length: 20 }, () => 'h'.repeat(44)) };
    const text = JSON.stringify({ format: 'f', entries: Array.from({ length: 2000 }, (_, i) => ({ ...entry, index: i })) });
    const { seen, held } = read(text, 4096);
    expect(seen).toHaveLength(2 + 2000);
    expect(text.length).toBeGreaterThan(3_000_000);
    // one chunk plus the entry that straddles its edge
    expect(held).toBeLessThan(4096 + JSON.stringify(entry).length + 16);
  });

  it('refuses what is not one whole JSON object', () => {
    const bad = ['', '[]', '{"entries": [{"index": 1}', '{"a": 1} x', '{"entries": {}}', '{"a" 1}', '{"a": 1,}', '{"entries": [1 2]}', '{"entries": [], "entries": []}'];
    for (const text of bad) expect(() => read(text, 3), text).toThrow(BundleSyntaxError);
  });
});
