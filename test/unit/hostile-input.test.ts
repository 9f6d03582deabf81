import { describe, expect, it } from 'vitest';
import { loggableError, statementName } from '../../src/http/error-log.ts';
import { decodeUtf8, jsonNestsDeeperThan, jsonTextFault, queryFault, textFault } from '../../src/http/hostile-input.ts';

describe('textFault', () => {
  it('finds NUL and lone surrogates, and passes surrogate pairs', () => {
    expect(textFault('a\u0000b')).toMatch(/NUL/);
    expect(textFault('\ud800')).toMatch(/lone surrogate/);
    expect(textFault('x\udc00')).toMatch(/lone surrogate/);
    expect(textFault('\udc00\ud800')).toMatch(/lone surrogate/);
    expect(textFault('🏜️ dune')).toBeUndefined();
    expect(textFault('')).toBeUndefined();
  });
});

describe('jsonTextFault', () => {
  it('names the first bad string by its path, values and keys alike', () => {
    expect(jsonTextFault({ a: [1, { b: 'ok' }, { c: 'x\u0000' }] })).toEqual({ field: 'a.2.c', message: expect.stringMatching(/NUL/) });
    expect(jsonTextFault({ ['k\ud800']: 1 })?.field).toBe('k\ud800');
    expect(jsonTextFault('\u0000')?.field).toBe('(body)');
    expect(jsonTextFault({ a: ['fine', 2, null, true] })).toBeUndefined();
  });
});

describe('jsonNestsDeeperThan', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(jsonNestsDeeperThan('[[[]]]', 3)).toBe(false);
    expect(jsonNestsDeeperThan('[[[[]]]]', 3)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":"[[[[[[\\"[[["}', 1)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":{"b":{"c":1}}}', 2)).toBe(true);
  });
});

describe('decodeUtf8 and queryFault', () => {
  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    expect(decodeUtf8(new Uint8Array([0x61, 0xff]))).toBeUndefined();
    expect(decodeUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBeUndefined(); // an encoded surrogate
    expect(decodeUtf8(Buffer.from('é'))).toBe('é');
  });
  it('names a bad query parameter and an oversized cursor', () => {
    expect(queryFault([['q', 'a\u0000']])?.field).toBe('q');
    expect(queryFault([['cursor', '9'.repeat(16)]])?.field).toBe('cursor');
    expect(queryFault([['cursor', '9'.repeat(15)]])).toBeUndefined();
  });
});

describe('loggableError', () => {
  it('keeps a database error’s code and statement, never its parameters or message', () => {
    const pg = Object.assign(new Error('invalid input syntax for type bigint: "hunter2"'), {
      name: 'PostgresError',
      code: '22P02',
      severity: 'ERROR',
      query: "select $1::bigint where x = 'literal-secret'",
      parameters: ['hunter2'],
    });
    const drizzle = Object.assign(new Error('Failed query: select $1::bigint\nparams: hunter2', { cause: pg }), { query: 'select $1::bigint', params: ['hunter2'] });
    const logged = loggableError(drizzle);
    const text = JSON.stringify(logged);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('literal-secret');
    expect(logged.cause?.code).toBe('22P02');
    expect(logged.statement).toBe('select $1::bigint');
    expect(logged.stack).toMatch(/^\s+at /);
  });
  it('keeps an ordinary error’s class and first line', () => {
    expect(loggableError(new TypeError('x is undefined\nmore'))).toMatchObject({ type: 'TypeError', message: 'x is undefined' });
    expect(statementName("insert into t values ('a', 123456)")).toBe("insert into t values ('?', ?)");
  });
});
