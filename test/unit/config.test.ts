import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

describe('configuration from the environment', () => {
  it('defaults to the embedded mode', () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBeUndefined();
    expect(c.auth.mode).toBe('local');
    expect(c.port).toBe(8080);
  });

  it('names every bad variable', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const vars = (e as ConfigError).issues.map((i) => i.variable).sort();
      expect(vars).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
      expect((e as Error).message).toContain('PORT');
    }
  });

  it('requires issuer and audience with a JWKS URL', () => {
    expect(() => loadConfig({ AUTH_JWKS_URL: 'https://id.example/jwks.json' })).toThrow(/AUTH_JWKS_URL/);
    const c = loadConfig({ AUTH_JWKS_URL: 'https://id.example/jwks.json', AUTH_ISSUER: 'https://id.example', AUTH_AUDIENCE: 'clearframe' });
    expect(c.auth).toEqual({ mode: 'jwks', jwksUrl: 'https://id.example/jwks.json', issuer: 'https://id.example', audience: 'clearframe' });
  });

  it('TSA_URL turns on time-stamping of output signatures; a bad value or a stray timeout stops start-up naming the variable', () => {
    expect(loadConfig({}).timestamping).toBeNull();
    expect(loadConfig({ TSA_URL: 'http://timestamp.digicert.com' }).timestamping).toEqual({ url: 'http://timestamp.digicert.com', timeoutMs: 10_000 });
    expect(loadConfig({ TSA_URL: 'https://tsa.example/rfc3161', TSA_TIMEOUT_MS: '2500' }).timestamping).toEqual({ url: 'https://tsa.example/rfc3161', timeoutMs: 2500 });
    const issues = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        if (e instanceof ConfigError) return e.issues;
        throw e;
      }
      return [];
    };
    expect(issues({ TSA_URL: 'tsa.example' })).toEqual([{ variable: 'TSA_URL', message: expect.stringMatching(/http:\/\/ or https:\/\/ URL/) }]);
    expect(issues({ TSA_URL: 'ldap://tsa.example' }).map((i) => i.variable)).toEqual(['TSA_URL']);
    expect(issues({ TSA_URL: 'https://tsa.example', TSA_TIMEOUT_MS: 'soon' }).map((i) => i.variable)).toEqual(['TSA_TIMEOUT_MS']);
    expect(issues({ TSA_URL: 'https://tsa.example', TSA_TIMEOUT_MS: '5' }).map((i) => i.variable)).toEqual(['TSA_TIMEOUT_MS']);
    expect(issues({ TSA_TIMEOUT_MS: '2500' })).toEqual([{ variable: 'TSA_TIMEOUT_MS', message: expect.stringMatching(/only used with TSA_URL/) }]);
  });
});
