import { describe, expect, it } from 'vitest';
import { rememberVerified, type Verified } from '../../src/auth/verified-tokens.ts';

type P = { sub: string };

/** A verifier that counts its calls and answers each token `t` with exp taken from `exps`. */
function counting(exps: Record<string, number>) {
  const calls: string[] = [];
  const verify = async (token: string): Promise<Verified<P>> => {
    calls.push(token);
    if (!(token in exps)) throw new Error(`bad token ${token}`);
    return { principal: { sub: token }, exp: exps[token]! };
  };
  return { calls, verify };
}

describe('verified tokens remembered until they expire', () => {
  it('verifies a token once, then answers it from memory until its exp, and verifies it again at exp', async () => {
    let now = 1000;
    const { calls, verify } = counting({ a: 1010 });
    const check = rememberVerified(verify, { maxEntries: 10, maxAgeSeconds: 600, now: () => now });
    expect(await check('a')).toEqual({ sub: 'a' });
    expect(await check('a')).toEqual({ sub: 'a' });
    now = 1009.9;
    await check('a');
    expect(calls).toEqual(['a']);
    now = 1010; // exp <= now: expired, as jose decides; the real verifier is asked (and would refuse)
    await check('a');
    expect(calls).toEqual(['a', 'a']);
  });

  it('trusts a verification for at most maxAgeSeconds, even for a token that holds longer', async () => {
    let now = 0;
    const { calls, verify } = counting({ long: 100_000 });
    const check = rememberVerified(verify, { maxEntries: 10, maxAgeSeconds: 60, now: () => now });
    await check('long');
    now = 59;
    await check('long');
    expect(calls).toHaveLength(1);
    now = 60;
    await check('long');
    expect(calls).toHaveLength(2);
  });

  it('never remembers a refusal: a bad token is checked, and refused, every time', async () => {
    const { calls, verify } = counting({});
    const check = rememberVerified(verify, { maxEntries: 10, maxAgeSeconds: 60, now: () => 0 });
    await expect(check('forged')).rejects.toThrow(/bad token/);
    await expect(check('forged')).rejects.toThrow(/bad token/);
    expect(calls).toEqual(['forged', 'forged']);
  });

  it('holds at most maxEntries, forgetting the oldest first; maxEntries 0 remembers nothing', async () => {
    const { calls, verify } = counting({ a: 99, b: 99, c: 99 });
    const check = rememberVerified(verify, { maxEntries: 2, maxAgeSeconds: 60, now: () => 0 });
    for (const t of ['a', 'b', 'c', 'c', 'b', 'a']) await check(t);
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
    const none = counting({ a: 99 });
    const forgetful = rememberVerified(none.verify, { maxEntries: 0, maxAgeSeconds: 60, now: () => 0 });
    await forgetful('a');
    await forgetful('a');
    expect(none.calls).toHaveLength(2);
  });
});
