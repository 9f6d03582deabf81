import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

/** What start-up would refuse in `env`: the ConfigError's issues, none when it loads. */
function issues(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
}

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
    expect(issues({ TSA_URL: 'tsa.example' })).toEqual([{ variable: 'TSA_URL', message: expect.stringMatching(/http:\/\/ or https:\/\/ URL/) }]);
    expect(issues({ TSA_URL: 'ldap://tsa.example' }).map((i) => i.variable)).toEqual(['TSA_URL']);
    expect(issues({ TSA_URL: 'https://tsa.example', TSA_TIMEOUT_MS: 'soon' }).map((i) => i.variable)).toEqual(['TSA_TIMEOUT_MS']);
    expect(issues({ TSA_URL: 'https://tsa.example', TSA_TIMEOUT_MS: '5' }).map((i) => i.variable)).toEqual(['TSA_TIMEOUT_MS']);
    expect(issues({ TSA_TIMEOUT_MS: '2500' })).toEqual([{ variable: 'TSA_TIMEOUT_MS', message: expect.stringMatching(/only used with TSA_URL/) }]);
  });
});

describe('start-up configuration (issue 16)', () => {
  it('TOKEN_MAX_TTL_SECONDS bounds `token issue --ttl`: 30 days by default, validated like the others', () => {
    expect(loadConfig({}).tokenMaxTtlSeconds).toBe(30 * 24 * 3600);
    expect(loadConfig({ TOKEN_MAX_TTL_SECONDS: '3600' }).tokenMaxTtlSeconds).toBe(3600);
    expect(issues({ TOKEN_MAX_TTL_SECONDS: 'forever' }).map((i) => i.variable)).toEqual(['TOKEN_MAX_TTL_SECONDS']);
    expect(issues({ TOKEN_MAX_TTL_SECONDS: '0' }).map((i) => i.variable)).toEqual(['TOKEN_MAX_TTL_SECONDS']);
  });

  it('refuses a non-loopback HOST without PUBLIC_URL, naming both (no http://0.0.0.0 origins)', () => {
    const refused = issues({ HOST: '0.0.0.0' });
    expect(refused).toHaveLength(1);
    expect(refused[0]!.message).toMatch(/HOST/);
    expect(refused[0]!.message).toMatch(/PUBLIC_URL/);
    expect(issues({ HOST: '::' }).length).toBe(1);
    expect(issues({ HOST: '10.0.0.5' }).length).toBe(1);
    expect(loadConfig({ HOST: '0.0.0.0', PUBLIC_URL: 'https://ledger.studio.example' }).auditOrigin).toBe('ledger.studio.example/clearframe/audit');
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.1.1']) expect(issues({ HOST: host })).toEqual([]);
  });

  it('the database connection retry at start is bounded and configurable', () => {
    expect(loadConfig({}).databaseConnect).toEqual({ attempts: 5, intervalMs: 1500, maxConnections: 10 });
    expect(loadConfig({ DATABASE_MAX_CONNECTIONS: '40' }).databaseConnect.maxConnections).toBe(40);
    expect(() => loadConfig({ DATABASE_MAX_CONNECTIONS: '1' })).toThrow(/DATABASE_MAX_CONNECTIONS/);
    expect(loadConfig({ DATABASE_CONNECT_ATTEMPTS: '1' }).databaseConnect.attempts).toBe(1);
    expect(issues({ DATABASE_CONNECT_ATTEMPTS: '0' }).map((i) => i.variable)).toEqual(['DATABASE_CONNECT_ATTEMPTS']);
    expect(issues({ DATABASE_CONNECT_INTERVAL_MS: 'soon' }).map((i) => i.variable)).toEqual(['DATABASE_CONNECT_INTERVAL_MS']);
  });
});
