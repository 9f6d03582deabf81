import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_SECONDS, lifetimeRefusal } from '../../src/auth/tokens.ts';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

describe('the bound on a token’s lifetime', () => {
  const now = 1_800_000_000;
  it('accepts a lifetime up to the bound and refuses one past it, or without iat or exp', () => {
    expect(lifetimeRefusal({ iat: now, exp: now + 3600 }, 3600, now)).toBeNull();
    expect(lifetimeRefusal({ iat: now, exp: now + 3601 }, 3600, now)).toMatch(/lifetime \(exp - iat\) is 3601 s, longer than the 3600 s/);
    expect(lifetimeRefusal({ exp: now + 60 }, 3600, now)).toMatch(/no "iat"/);
    expect(lifetimeRefusal({ iat: now }, 3600, now)).toMatch(/no "exp"/);
  });
  it('refuses an iat in the future beyond clock skew, which would stretch the lifetime past the bound', () => {
    expect(lifetimeRefusal({ iat: now + CLOCK_SKEW_SECONDS, exp: now + CLOCK_SKEW_SECONDS + 60 }, 3600, now)).toBeNull();
    expect(lifetimeRefusal({ iat: now + CLOCK_SKEW_SECONDS + 1, exp: now + CLOCK_SKEW_SECONDS + 61 }, 3600, now)).toMatch(/in the future/);
  });
  it('defaults to the issuer’s own limit, and refuses a bound below it with the local issuer', () => {
    expect(loadConfig({}).tokenMaxLifetimeSeconds).toBe(loadConfig({}).tokenMaxTtlSeconds);
    expect(loadConfig({ TOKEN_MAX_TTL_SECONDS: '7200' }).tokenMaxLifetimeSeconds).toBe(7200);
    expect(loadConfig({ AUTH_MAX_TOKEN_LIFETIME_SECONDS: '86400', TOKEN_MAX_TTL_SECONDS: '3600' }).tokenMaxLifetimeSeconds).toBe(86400);
    let error: unknown;
    try {
      loadConfig({ AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.variable)).toEqual(['AUTH_MAX_TOKEN_LIFETIME_SECONDS']);
  });
});
