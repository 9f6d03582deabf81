import { describe, expect, it } from 'vitest';
import { allowedOriginsRefusal, loadConfig, parseAllowedOrigins } from '../../src/config/config.ts';
import { dedupeKey, eventBody, filterMatches, roleRefusals } from '../../src/notifications/events.ts';
import { callbackRefusal } from '../../src/notifications/origins.ts';
import { afterAttempt, isDelivered, retryDelayMs } from '../../src/notifications/retry.ts';

describe('callback URLs against WEBHOOK_ALLOWED_ORIGINS', () => {
  const allowed = parseAllowedOrigins('https://hooks.distributor.example, HTTP://127.0.0.1:9000/');
  it('reads the origins normalised', () => {
    expect(allowed).toEqual(['https://hooks.distributor.example', 'http://127.0.0.1:9000']);
    expect(parseAllowedOrigins(undefined)).toEqual([]);
  });
  it('allows any path on an allowed origin, and nothing else', () => {
    expect(callbackRefusal('https://hooks.distributor.example/a/b?c=1', allowed)).toBeNull();
    expect(callbackRefusal('https://hooks.distributor.example:443/x', allowed)).toBeNull();
    expect(callbackRefusal('http://127.0.0.1:9000/hook', allowed)).toBeNull();
    for (const url of [
      'http://hooks.distributor.example/x',
      'https://hooks.distributor.example.evil.test/',
      'https://evil.test@hooks.distributor.example/',
      'https://user:pw@hooks.distributor.example/',
      'http://127.0.0.1:9001/',
      'http://localhost:9000/',
      'http://[::1]:9000/',
      'http://169.254.169.254/latest/meta-data',
      'file:///etc/passwd',
      'gopher://127.0.0.1:9000/',
      'nonsense',
    ]) {
      expect(callbackRefusal(url, allowed), url).not.toBeNull();
    }
  });
  it('allows nothing when unset, and says so', () => {
    expect(callbackRefusal('https://hooks.distributor.example/', [])).toMatch(/WEBHOOK_ALLOWED_ORIGINS is not set/);
  });
  it('refuses a configuration entry that is not an origin', () => {
    expect(allowedOriginsRefusal('https://a.example,http://127.0.0.1:9000')).toBeNull();
    expect(allowedOriginsRefusal('https://a.example/path')).toMatch(/not an origin/);
    expect(allowedOriginsRefusal('ftp://a.example')).toMatch(/only http/);
    expect(allowedOriginsRefusal('a.example')).toMatch(/not an origin/);
    expect(() => loadConfig({ WEBHOOK_ALLOWED_ORIGINS: 'https://a.example/x' })).toThrow(/WEBHOOK_ALLOWED_ORIGINS/);
    expect(loadConfig({ WEBHOOK_ALLOWED_ORIGINS: 'https://a.example' }).notifications.allowedOrigins).toEqual(['https://a.example']);
  });
});

describe('retries', () => {
  const policy = { baseMs: 1000, capMs: 60_000, maxAttempts: 5 };
  it('backs off exponentially with equal jitter, up to the cap', () => {
    expect(retryDelayMs(1, policy, 0)).toBe(500);
    expect(retryDelayMs(1, policy, 0.999999)).toBe(1000);
    expect(retryDelayMs(3, policy, 0)).toBe(2000);
    expect(retryDelayMs(3, policy, 1)).toBe(4000);
    expect(retryDelayMs(20, policy, 0)).toBe(30_000);
    expect(retryDelayMs(20, policy, 1)).toBe(60_000);
    expect(retryDelayMs(10_000, policy, 0.5)).toBe(45_000);
  });
  it('gives up after the last attempt; only a 2xx is delivered', () => {
    const fail = { ok: false as const, status: 503, error: 'busy' };
    expect(afterAttempt(1, fail, policy)).toBe('retry');
    expect(afterAttempt(4, fail, policy)).toBe('retry');
    expect(afterAttempt(5, fail, policy)).toBe('failed');
    expect(afterAttempt(5, { ok: true, status: 204 }, policy)).toBe('delivered');
    expect([200, 204, 299].every(isDelivered)).toBe(true);
    expect([199, 301, 302, 400, 500].some(isDelivered)).toBe(false);
  });
});

describe('who gets which event', () => {
  const subjects = { assetIds: ['ast_1'], checkpointIds: ['ckp_1', 'ckp_2'], outputIds: ['out_1'] };
  it('matches every list the filter gives, any id in each', () => {
    expect(filterMatches({}, subjects)).toBe(true);
    expect(filterMatches({ assetIds: ['ast_1'] }, subjects)).toBe(true);
    expect(filterMatches({ checkpointIds: ['ckp_9', 'ckp_2'] }, subjects)).toBe(true);
    expect(filterMatches({ outputIds: ['out_2'] }, subjects)).toBe(false);
    expect(filterMatches({ assetIds: ['ast_1'], outputIds: ['out_2'] }, subjects)).toBe(false);
    expect(filterMatches({ outputIds: [] }, subjects)).toBe(true);
  });
  it('lets a distributor ask for the standing of outputs, by output, and nothing else', () => {
    expect(roleRefusals('legal', ['license.revoked', 'license.ending', 'checkpoint.tainted', 'output.standingChanged'], { assetIds: ['a'] })).toEqual([]);
    expect(roleRefusals('distributor', ['output.standingChanged'], { outputIds: ['out_1'] })).toEqual([]);
    expect(roleRefusals('distributor', ['license.revoked', 'output.standingChanged'], {})).toHaveLength(1);
    expect(roleRefusals('distributor', ['output.standingChanged'], { checkpointIds: ['ckp_1'] })).toHaveLength(1);
    expect(roleRefusals('vendor', ['output.standingChanged'], {})).toHaveLength(1);
  });
  it('writes the body once, with the event id a receiver dedupes by', () => {
    const body = JSON.parse(
      eventBody({ id: 'evt_1', type: 'license.revoked', occurredAt: '2026-12-04T00:00:00.000Z', subscriptionId: 'sub_1', auditIndex: 7, data: { licenseId: 'lic_1' } }),
    );
    expect(body).toEqual({ id: 'evt_1', type: 'license.revoked', occurredAt: '2026-12-04T00:00:00.000Z', subscriptionId: 'sub_1', auditIndex: 7, data: { licenseId: 'lic_1' } });
    expect(dedupeKey('sub_1', 'license.ending', 'lic_1:30')).not.toBe(dedupeKey('sub_1', 'license.ending', 'lic_1:7'));
  });
});
