import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { WrittenOnce } from '../../src/db/written-once.ts';

const database = () => ({}) as Database;

describe('WrittenOnce', () => {
  it('reads a row once per database, and keeps only rows that were found', async () => {
    const memo = new WrittenOnce<string>(10);
    const [a, b] = [database(), database()];
    let loads = 0;
    const load = (v: string) => async () => (loads++, v);
    expect(await memo.read(a, 'k', load('a1'))).toBe('a1');
    expect(await memo.read(a, 'k', load('a2'))).toBe('a1');
    expect(await memo.read(b, 'k', load('b1'))).toBe('b1'); // another database is another memo
    expect(loads).toBe(2);
    await expect(memo.read(a, 'missing', async () => Promise.reject(new Error('404')))).rejects.toThrow('404');
    expect(memo.get(a, 'missing')).toBeUndefined();
  });

  it('holds at most its capacity, dropping the row used least recently', () => {
    const memo = new WrittenOnce<number>(3);
    const db = database();
    for (const k of ['a', 'b', 'c']) memo.set(db, k, k.charCodeAt(0));
    expect(memo.get(db, 'a')).toBe(97); // used again: now the newest
    memo.set(db, 'd', 4);
    expect(memo.get(db, 'b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => memo.get(db, k))).toEqual([97, 99, 4]);
  });
});
