import { describe, expect, it } from 'vitest';
import { bindingOfPdqHex, isSupportedAlgorithm, pdqHexOfBinding, resultCount, SUPPORTED_ALGORITHMS, similarityScore } from '../../src/softbinding/query.ts';

const HEX = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'; // a PDQ hash of Meta's vectors' form

describe('soft binding resolution values (pure)', () => {
  it('reads a PDQ binding value as base64 of its 32 bytes (standard or URL-safe, padded or not) or as 64 hex digits', () => {
    const b64 = Buffer.from(HEX, 'hex').toString('base64');
    expect(bindingOfPdqHex(HEX)).toBe(b64);
    expect(b64).toHaveLength(44);
    for (const v of [b64, b64.replace(/=$/, ''), b64.replaceAll('+', '-').replaceAll('/', '_'), b64.replaceAll('+', ' '), HEX, HEX.toUpperCase(), ` ${HEX} `]) {
      expect(pdqHexOfBinding(v), v).toBe(HEX);
    }
  });

  it('refuses what is not 256 bits', () => {
    const b64 = Buffer.from(HEX, 'hex').toString('base64');
    for (const v of [
      '',
      'abc',
      HEX.slice(2),
      `${HEX}00`,
      Buffer.alloc(31).toString('base64'),
      Buffer.alloc(33).toString('base64'),
      `${b64.slice(0, 42)}B`,
      `${b64.slice(0, 43)}!`,
    ]) {
      expect(pdqHexOfBinding(v), v).toBeNull();
    }
  });

  it('scores a match from 100 (the same hash) down towards 0 at the threshold, and refuses a distance beyond it', () => {
    expect(similarityScore(0, 31)).toBe(100);
    expect(similarityScore(16, 31)).toBe(50);
    expect(similarityScore(31, 31)).toBe(3);
    expect(() => similarityScore(32, 31)).toThrow(RangeError);
    expect(() => similarityScore(-1, 31)).toThrow(RangeError);
  });

  it('answers for its own algorithm only, and keeps maxResults within one answer', () => {
    expect(SUPPORTED_ALGORITHMS).toEqual({ watermarks: [], fingerprints: [{ alg: 'com.clearframe.pdq.1' }] });
    expect(isSupportedAlgorithm('com.clearframe.pdq.1')).toBe(true);
    expect(isSupportedAlgorithm('com.adobe.trustmark.P')).toBe(false);
    expect(resultCount(undefined)).toBe(10);
    expect(resultCount(3)).toBe(3);
    expect(resultCount(5000)).toBe(100);
  });
});
