import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { consoleContentSecurityPolicy } from '../../src/console/security.ts';

function issues(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
}

const JWKS = { AUTH_JWKS_URL: 'https://id.example/jwks.json', AUTH_ISSUER: 'https://id.example', AUTH_AUDIENCE: 'clearframe' };

describe('the console’s OpenID Connect sign-in configuration', () => {
  it('is off by default and in the jwks mode without a client id: the console asks for a token', () => {
    expect(loadConfig({}).consoleOidc).toBeNull();
    expect(loadConfig(JWKS).consoleOidc).toBeNull();
  });

  it('signs in at AUTH_ISSUER with CONSOLE_OIDC_CLIENT_ID, scope openid unless CONSOLE_OIDC_SCOPE says more', () => {
    expect(loadConfig({ ...JWKS, CONSOLE_OIDC_CLIENT_ID: 'console' }).consoleOidc).toEqual({ issuer: 'https://id.example', clientId: 'console', scope: 'openid' });
    expect(loadConfig({ ...JWKS, CONSOLE_OIDC_CLIENT_ID: 'console', CONSOLE_OIDC_SCOPE: 'openid clearframe' }).consoleOidc?.scope).toBe('openid clearframe');
    // http only for an issuer on this machine.
    expect(loadConfig({ ...JWKS, AUTH_ISSUER: 'http://127.0.0.1:9000', CONSOLE_OIDC_CLIENT_ID: 'console' }).consoleOidc?.issuer).toBe('http://127.0.0.1:9000');
  });

  it('names the variable when the sign-in cannot work', () => {
    expect(issues({ CONSOLE_OIDC_CLIENT_ID: 'console' })).toEqual([{ variable: 'CONSOLE_OIDC_CLIENT_ID', message: expect.stringMatching(/only used with AUTH_JWKS_URL/) }]);
    expect(issues({ ...JWKS, CONSOLE_OIDC_SCOPE: 'openid' })).toEqual([
      { variable: 'CONSOLE_OIDC_SCOPE', message: expect.stringMatching(/only used with CONSOLE_OIDC_CLIENT_ID/) },
    ]);
    expect(issues({ ...JWKS, CONSOLE_OIDC_CLIENT_ID: 'console', CONSOLE_OIDC_SCOPE: 'openid  two"' })).toEqual([
      { variable: 'CONSOLE_OIDC_SCOPE', message: expect.stringMatching(/single spaces/) },
    ]);
    expect(issues({ ...JWKS, AUTH_ISSUER: 'http://id.example', CONSOLE_OIDC_CLIENT_ID: 'console' })).toEqual([
      { variable: 'AUTH_ISSUER', message: expect.stringMatching(/https:\/\//) },
    ]);
    expect(issues({ ...JWKS, AUTH_ISSUER: 'id.example', CONSOLE_OIDC_CLIENT_ID: 'console' })).toEqual([
      { variable: 'AUTH_ISSUER', message: expect.stringMatching(/must be a URL/) },
    ]);
  });

  it('adds only the named origins to connect-src', () => {
    expect(consoleContentSecurityPolicy()).toContain("connect-src 'self';");
    expect(consoleContentSecurityPolicy(['https://id.example'])).toContain("connect-src 'self' https://id.example;");
  });
});
