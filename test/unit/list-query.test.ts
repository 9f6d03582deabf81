import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { CursorQuery, DateQuery, LimitQuery } from '../../src/http/openapi-common.ts';
import { fieldErrors } from '../../src/http/problem.ts';

describe('the list query fields', () => {
  const Query = z.object({ endingBefore: DateQuery, cursor: CursorQuery, limit: LimitQuery }).strict();

  it('reads a date as midnight UTC and a date-time as written', () => {
    expect(Query.parse({ endingBefore: '2026-06-30' }).endingBefore).toEqual(new Date('2026-06-30T00:00:00Z'));
    expect(Query.parse({ endingBefore: '2026-06-30T12:00:00+02:00' }).endingBefore).toEqual(new Date('2026-06-30T10:00:00Z'));
    expect(Query.parse({}).limit).toBe(50);
  });

  it('refuses a day that does not exist, a date in another shape, and a bad cursor or limit', () => {
    for (const endingBefore of ['2026-02-30', '2026-13-01', '30/06/2026', '2026-06-30T25:00:00Z', '2026-06-30T10:00:00']) {
      expect(Query.safeParse({ endingBefore }).success, endingBefore).toBe(false);
    }
    for (const cursor of ['abc', '-1', '1'.repeat(16)]) expect(Query.safeParse({ cursor }).success, cursor).toBe(false);
    for (const limit of ['0', '201', '1.5']) expect(Query.safeParse({ limit }).success, limit).toBe(false);
  });

  it('names each unknown parameter as its field, not the whole query', () => {
    const r = Query.safeParse({ limit: '5', bogus: '1', other: '2' });
    expect(r.success).toBe(false);
    expect(fieldErrors(r.error!.issues)).toEqual([
      { field: 'bogus', message: 'unknown field "bogus"' },
      { field: 'other', message: 'unknown field "other"' },
    ]);
    // Nested strict objects name the path to the key.
    const nested = z.object({ grants: z.object({ training: z.string() }).strict() }).safeParse({ grants: { training: 'x', extra: 1 } });
    expect(fieldErrors(nested.error!.issues)).toEqual([{ field: 'grants.extra', message: 'unknown field "extra"' }]);
  });
});
