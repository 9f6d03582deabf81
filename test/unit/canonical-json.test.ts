import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalize } from '../../src/audit/canonical-json.ts';

// test/unit/vectors/jcs.json holds, each with its source:
// - cyberphone/json-canonicalization testdata (the RFC 8785 reference implementation's
//   input -> output pairs, file contents verbatim),
// - RFC 8785 Appendix B number serialization samples,
// - the published SHA-256 of the first 1000 lines of the ES6 number test file.
type Vectors = {
  cyberphone: { cases: { name: string; input: string; output: string }[] };
  appendixB: { finite: [string, string][]; nonFinite: string[] };
  es6NumberFile: { staticU64s: string[]; lines: number; sha256: string };
};
const VECTORS = JSON.parse(readFileSync(new URL('./vectors/jcs.json', import.meta.url), 'utf8')) as Vectors;

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('RFC 8785 vectors', () => {
  it.each(VECTORS.cyberphone.cases.map((c) => [c.name, c] as const))('cyberphone testdata: %s', (_, { input, output }) => {
    expect(canonicalize(JSON.parse(input))).toBe(output);
    expect(Buffer.from(canonicalBytes(JSON.parse(input))).toString('utf8')).toBe(output);
  });

  // RFC 8785 §3.2.3: the sorting example and its expected property order.
  it('sorts properties by UTF-16 code units (§3.2.3)', () => {
    const input = JSON.parse(`{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`) as Record<string, string>;
    const out = canonicalize(input);
    // Values in the expected property order (not via JSON.parse: JS objects list "1" first).
    expect(out.match(/"[^"]*"(?=[,}])/g)).toEqual([
      '"Carriage Return"',
      '"One"',
      '"Control"',
      '"Latin Small Letter O With Diaeresis"',
      '"Euro Sign"',
      '"Emoji: Grinning Face"',
      '"Hebrew Letter Dalet With Dagesh"',
    ]);
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  // RFC 8785 §3.2.4: the UTF-8 bytes of the §3.2.2 example (also cyberphone testdata/outhex/values.txt).
  it('produces the §3.2.4 UTF-8 bytes', () => {
    const input = VECTORS.cyberphone.cases.find((c) => c.name === 'values')!.input;
    const expected = `
      7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 6c 73 65 5d 2c 22 6e
      75 6d 62 65 72 73 22 3a 5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 65 2b 33 30
      2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24
      5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`;
    expect(Buffer.from(canonicalBytes(JSON.parse(input))).toString('hex')).toBe(expected.replace(/\s+/g, ''));
  });

  it.each(VECTORS.appendixB.finite)('Appendix B: %s -> %s', (bits, expected) => {
    expect(canonicalize(fromBits(bits))).toBe(expected);
  });

  it.each(VECTORS.appendixB.nonFinite)('Appendix B: %s (NaN/Infinity) is rejected', (bits) => {
    expect(() => canonicalize(fromBits(bits))).toThrow(RangeError);
  });

  it('matches the published hash of the first 1000 ES6 number test lines', () => {
    const { staticU64s, lines, sha256 } = VECTORS.es6NumberFile;
    const hash = createHash('sha256');
    for (let i = 0; i < lines; i++) {
      const bits = i < staticU64s.length ? BigInt(`0x${staticU64s[i]}`) : 0x0010000000000000n + BigInt(i - staticU64s.length);
      const hex = bits.toString(16);
      hash.update(`${hex},${canonicalize(fromBits(hex.padStart(16, '0')))}\n`);
    }
    expect(hash.digest('hex')).toBe(sha256);
  });
});

describe('canonicalize', () => {
  it('serializes numbers as in the RFC 8785 §3.2.2 example', () => {
    // biome-ignore lint/correctness/noPrecisionLoss: the RFC 8785 example is a literal that loses precision
    expect(canonicalize([333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001])).toBe('[333333333.3333333,1e+30,4.5,0.002,1e-27]');
    expect(canonicalize([-0, 1e21, 1e-7, 0.000001, 100])).toBe('[0,1e+21,1e-7,0.000001,100]');
  });

  it('escapes strings like ECMAScript JSON.stringify', () => {
    expect(canonicalize('\u20ac$\u000f\nA\'B"\\\\"/')).toBe('"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"');
    expect(canonicalize('\b\f\t\r\u001f\u007f\u2028')).toBe('"\\b\\f\\t\\r\\u001f\u007f\u2028"');
    expect(canonicalize('\ud83d\ude00')).toBe('"\ud83d\ude00"');
  });

  it('sorts nested keys and keeps array order', () => {
    expect(canonicalize({ b: [3, { z: 1, a: null }], a: { d: true, c: false } })).toBe('{"a":{"c":false,"d":true},"b":[3,{"a":null,"z":1}]}');
    expect(canonicalize(Object.assign(Object.create(null) as object, { y: 1, x: 2 }))).toBe('{"x":2,"y":1}');
  });

  it('omits undefined object members and applies toJSON, like JSON.stringify', () => {
    expect(canonicalize({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalize({ at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) })).toBe('{"at":"2024-01-02T03:04:05.006Z"}');
    // toJSON is applied once; its result is serialized as-is.
    const selfish = {
      v: 1,
      toJSON() {
        return { v: 2 };
      },
    };
    expect(canonicalize(selfish)).toBe('{"v":2}');
  });

  it('rejects values JSON cannot carry faithfully', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of [
      undefined,
      [undefined],
      // biome-ignore lint/suspicious/noSparseArray: a hole is the case under test
      [1, , 3],
      10n,
      { big: 10n },
      () => 1,
      { f: () => 1 },
      Symbol('s'),
      { s: Symbol('s') },
      new Map([[1, 2]]),
      new Set([1]),
      new Uint8Array(2),
      new (class Point {
        x = 1;
      })(),
      cyclic,
      'lone \ud800 surrogate',
      { 'key \udc00': 1 },
    ]) {
      expect(() => canonicalize(value), String(typeof value)).toThrow(TypeError);
    }
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, { a: [Number.NEGATIVE_INFINITY] }]) {
      expect(() => canonicalize(value)).toThrow(RangeError);
    }
  });

  it('names the offending path in errors', () => {
    expect(() => canonicalize({ rights: [{ ok: 1 }, { fee: Number.NaN }] })).toThrow('$.rights[1].fee');
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { k: 1 };
    expect(canonicalize({ a: shared, b: [shared, shared] })).toBe('{"a":{"k":1},"b":[{"k":1},{"k":1}]}');
  });

  it('encodes canonicalBytes as UTF-8', () => {
    expect(Buffer.from(canonicalBytes({ s: '\u00e9\ud83d\ude00' })).toString('hex')).toBe('7b2273223a22c3a9f09f9880227d');
    expect(canonicalBytes(1)).toBeInstanceOf(Uint8Array);
  });
});
