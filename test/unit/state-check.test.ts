import { describe, expect, it } from 'vitest';
import { compareWindow, describeDisagreement } from '../../src/audit/state-check.ts';

const at = (index: number, key: string, values: Record<string, unknown>) => ({ index, key, values });

describe('the state comparer', () => {
  it('finds a window whose rows are what the events state equal, dates and JSON by value', () => {
    const expected = [at(3, 'a', { grant: 'allowed', when: new Date('2026-01-01T00:00:00Z'), list: { b: 1, a: [2] } })];
    const stored = [at(3, 'a', { grant: 'allowed', when: new Date('2026-01-01T00:00:00.000Z'), list: { a: [2], b: 1 }, extra: 'not stated' })];
    expect(compareWindow('t', expected, stored)).toBeUndefined();
  });

  it('names the first column that differs, and skips what the event does not state', () => {
    const d = compareWindow('license_versions', [at(5, 'lic_1', { note: undefined, grant: 'notAllowed' })], [at(5, 'lic_1', { note: 'x', grant: 'allowed' })]);
    expect(d).toEqual({ table: 'license_versions', row: 'lic_1', column: 'grant', inTable: 'allowed', inLog: 'notAllowed', index: 5 });
    expect(describeDisagreement(d!)).toBe('license_versions row lic_1 (entry 5): grant is "allowed" in the table, the log says "notAllowed"');
  });

  it('names a missing row, a row no event states and a moved index, the earliest entry first', () => {
    const missing = compareWindow('t', [at(2, 'a', {}), at(4, 'b', {})], [at(4, 'b', {}), at(3, 'z', {})]);
    expect(missing).toMatchObject({ row: 'a', column: '(row)', inTable: null, index: 2 });
    expect(describeDisagreement(missing!)).toBe('t row a: missing from the table, but the log states it (entry 2)');
    const stray = compareWindow('t', [at(4, 'b', {})], [at(4, 'b', {}), at(3, 'z', {})]);
    expect(stray).toMatchObject({ row: 'z', column: '(row)', inLog: null, index: 3 });
    expect(describeDisagreement(stray!)).toBe('t row z: in the table, but no entry of the log states it (it claims entry 3)');
    expect(compareWindow('t', [at(4, 'b', {})], [at(5, 'b', {})])).toMatchObject({ row: 'b', column: 'audit_index', inTable: 5, inLog: 4 });
  });
});
