import { describe, expect, it } from 'vitest';
import { exclusiveOverlap, exclusivityConflict, sharedMedia, sharedTerritories, termsOverlap } from '../../src/licenses/exclusivity.ts';

const d = (s: string) => new Date(s);
const term = (start: string, end: string) => ({ start: d(start), end: d(end) });
const grant = (over: Partial<Parameters<typeof exclusiveOverlap>[0]> = {}) => ({
  licensee: 'Upstairs Films',
  territories: ['US'],
  media: ['streaming'],
  term: term('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'),
  ...over,
});

describe('exclusive grants overlap in territory, media and term', () => {
  it('territories: WORLD meets every list, lists meet where they share a code', () => {
    expect(sharedTerritories(['WORLD'], ['US', 'CA'])).toEqual(['US', 'CA']);
    expect(sharedTerritories(['FR'], ['WORLD'])).toEqual(['FR']);
    expect(sharedTerritories(['WORLD'], ['WORLD'])).toEqual(['WORLD']);
    expect(sharedTerritories(['US', 'CA', 'MX'], ['MX', 'US'])).toEqual(['US', 'MX']);
    expect(sharedTerritories(['US'], ['CA'])).toEqual([]);
  });

  it('media are compared as written, as the gate compares them', () => {
    expect(sharedMedia(['theatrical', 'streaming'], ['streaming'])).toEqual(['streaming']);
    expect(sharedMedia(['theatrical'], ['Theatrical'])).toEqual([]);
  });

  it('terms are half-open: one ending the instant the other starts does not overlap it', () => {
    expect(termsOverlap(term('2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z'), term('2026-06-01T00:00:00Z', '2027-01-01T00:00:00Z'))).toBe(false);
    expect(termsOverlap(term('2026-01-01T00:00:00Z', '2026-06-01T00:00:00.001Z'), term('2026-06-01T00:00:00Z', '2027-01-01T00:00:00Z'))).toBe(true);
    expect(termsOverlap(term('2026-01-01T00:00:00Z', '2030-01-01T00:00:00Z'), term('2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z'))).toBe(true);
    expect(termsOverlap(term('2028-01-01T00:00:00Z', '2029-01-01T00:00:00Z'), term('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'))).toBe(false);
  });

  it('an overlap needs all three, and says where', () => {
    const a = grant({ territories: ['WORLD'], media: ['streaming', 'theatrical'], term: term('2026-01-01T00:00:00Z', '2028-01-01T00:00:00Z') });
    const b = grant({ licensee: 'Merch Co', territories: ['US', 'CA'], media: ['theatrical', 'print'], term: term('2027-01-01T00:00:00Z', '2029-01-01T00:00:00Z') });
    expect(exclusiveOverlap(a, b)).toEqual({ territories: ['US', 'CA'], media: ['theatrical'], term: term('2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z') });
    expect(exclusiveOverlap(a, { ...b, territories: ['FR'] })).not.toBeNull();
    expect(exclusiveOverlap({ ...a, territories: ['DE'] }, b)).toBeNull();
    expect(exclusiveOverlap(a, { ...b, media: ['print'] })).toBeNull();
    expect(exclusiveOverlap(a, { ...b, term: term('2028-01-01T00:00:00Z', '2029-01-01T00:00:00Z') })).toBeNull();
  });

  it('only a grant to another licensee conflicts', () => {
    expect(exclusivityConflict(grant(), grant())).toBeNull();
    expect(exclusivityConflict(grant(), grant({ licensee: 'Merch Co' }))).not.toBeNull();
  });
});
