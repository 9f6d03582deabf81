import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Thrown when the environment cannot be turned into a configuration; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const optionalUrl = optionalString.pipe(z.url().optional());

const kmsKeyVersion = optionalString.pipe(
  z
    .string()
    .regex(
      /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/[^/]+$/,
      'must be a Cloud KMS key version: projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V',
    )
    .optional(),
);

/** With KEY_BACKEND=kms these name the keys; the C2PA signer also needs its certificate chain. */
const KMS_REQUIRED = ['KMS_AUDIT_KEY', 'KMS_CLEARANCE_KEY', 'KMS_C2PA_KEY', 'C2PA_CERT_CHAIN'] as const;
const KMS_ONLY = [...KMS_REQUIRED, 'C2PA_TRUST_ANCHOR', 'KMS_API_ENDPOINT', 'KMS_TIMEOUT_MS'] as const;

/** Why an issuer cannot be signed in at from the browser (null: it can): https, or http on this machine only. */
export function oidcIssuerRefusal(issuer: string): string | null {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'must be a URL (the OpenID Connect issuer) when CONSOLE_OIDC_CLIENT_ID is set';
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return null;
  return 'must be an https:// URL (http:// only on this machine) when CONSOLE_OIDC_CLIENT_ID is set';
}

/** Hosts that only this machine can reach: there `http://HOST:PORT` is a fine default public URL. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const envSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().default('127.0.0.1'),
    DATA_DIR: z.string().default('./data'),
    KEYS_DIR: optionalString,
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    PUBLIC_URL: optionalUrl,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    AUTH_JWKS_URL: optionalUrl,
    AUTH_ISSUER: optionalString,
    AUTH_AUDIENCE: optionalString,
    CONSOLE_OIDC_CLIENT_ID: optionalString,
    CONSOLE_OIDC_SCOPE: optionalString.pipe(
      z
        .string()
        .regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'must be OAuth scopes separated by single spaces, e.g. "openid clearframe"')
        .optional(),
    ),
    AUDIT_ORIGIN: optionalString,
    MAX_UPLOAD_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(200 * 1024 * 1024),
    MAX_JSON_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    MAX_JSON_LIST_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(32 * 1024 * 1024),
    RATE_LIMIT_REQUESTS: z.coerce.number().int().min(0).default(1200),
    RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    TRUST_PROXY: z.enum(['true', 'false']).default('false'),
    REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
    HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    MAX_HEADER_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024)
      .default(16 * 1024),
    MAX_CONNECTIONS_PER_CLIENT: z.coerce.number().int().min(0).default(128),
    C2PA_WORKERS: z.coerce.number().int().min(0).max(256).optional(),
    POLICIES_DIR: optionalString,
    CLEARANCE_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(366 * 24 * 3600)
      .default(24 * 3600),
    CLEARANCE_AUDIENCE: z.string().min(1).default('clearframe-training'),
    TOKEN_MAX_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(366 * 24 * 3600)
      .default(30 * 24 * 3600),
    AUTH_MAX_TOKEN_LIFETIME_SECONDS: z.preprocess(
      (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
      z.coerce
        .number()
        .int()
        .min(60)
        .max(366 * 24 * 3600)
        .optional(),
    ),
    DATABASE_CONNECT_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
    DATABASE_MAX_CONNECTIONS: z.coerce.number().int().min(2).max(500).default(10),
    DATABASE_CONNECT_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(1500),
    KMS_TIMEOUT_MS: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.coerce.number().int().min(100).max(300_000).optional()),
    VERTEX_PROJECT: optionalString,
    VERTEX_LOCATION: optionalString,
    VERTEX_API_ENDPOINT: optionalString,
    TAINT_SWEEP_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(24 * 3600)
      .default(300),
    C2PA_TRUST_ANCHORS: optionalString,
    WEBHOOK_ALLOWED_ORIGINS: optionalString,
    WEBHOOK_WORKER_INTERVAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
    WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(2000),
    WEBHOOK_RETRY_CAP_MS: z.coerce
      .number()
      .int()
      .min(10)
      .max(7 * 24 * 3600 * 1000)
      .default(3600 * 1000),
    LICENSE_ENDING_CHECK_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(24 * 3600)
      .default(3600),
    MAX_OUTPUT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(100 * 1024 * 1024),
    STORE_PROMPTS: z.enum(['hash', 'full']).default('hash'),
    OUTPUTS_ALLOW_TRAINING: z.enum(['true', 'false']).default('false'),
    OUTPUT_SOFT_BINDING: z.enum(['pdq', 'off']).default('pdq'),
    TSA_URL: optionalString.pipe(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL of an RFC 3161 time-stamp authority' }).optional()),
    TSA_TIMEOUT_MS: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.coerce.number().int().min(100).max(120_000).optional()),
    KEY_BACKEND: z.enum(['local', 'kms']).default('local'),
    KMS_AUDIT_KEY: kmsKeyVersion,
    KMS_CLEARANCE_KEY: kmsKeyVersion,
    KMS_C2PA_KEY: kmsKeyVersion,
    C2PA_CERT_CHAIN: optionalString,
    C2PA_TRUST_ANCHOR: optionalString,
    KMS_API_ENDPOINT: optionalString.pipe(
      z
        .string()
        .regex(/^https?:\/\/[^/?#]+\/?$/, 'must be http://HOST:PORT (a local emulator) or https://HOST[:PORT]')
        .optional(),
    ),
  })
  .superRefine((env, ctx) => {
    // Node refuses a headers timeout longer than the whole request's.
    if (env.HEADERS_TIMEOUT_MS > env.REQUEST_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['HEADERS_TIMEOUT_MS'], message: `must not exceed REQUEST_TIMEOUT_MS (${env.REQUEST_TIMEOUT_MS})` });
    }
    // http://0.0.0.0:8080 would be written into every checkpoint origin, clearance issuer and manifest.
    if (env.PUBLIC_URL === undefined && !isLoopbackHost(env.HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['PUBLIC_URL'],
        message: `HOST=${env.HOST} listens beyond this machine, so PUBLIC_URL is required (the URL clients use; it names the checkpoint origin, clearance issuer and manifests)`,
      });
    }
    if ((env.VERTEX_PROJECT === undefined) !== (env.VERTEX_LOCATION === undefined)) {
      ctx.addIssue({ code: 'custom', path: [env.VERTEX_PROJECT ? 'VERTEX_LOCATION' : 'VERTEX_PROJECT'], message: 'VERTEX_PROJECT and VERTEX_LOCATION go together' });
    }
    // A production identity provider needs all three; half a configuration would silently fall back.
    const set = [env.AUTH_JWKS_URL, env.AUTH_ISSUER, env.AUTH_AUDIENCE].filter((v) => v !== undefined).length;
    if (env.AUTH_JWKS_URL !== undefined && set !== 3) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWKS_URL'],
        message: 'AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE as well',
      });
    }
    // The console signs in at the identity provider whose tokens the service accepts: without one there is none.
    if (env.CONSOLE_OIDC_CLIENT_ID !== undefined && env.AUTH_JWKS_URL === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['CONSOLE_OIDC_CLIENT_ID'],
        message: 'is only used with AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE (the console signs in at AUTH_ISSUER)',
      });
    }
    if (env.CONSOLE_OIDC_SCOPE !== undefined && env.CONSOLE_OIDC_CLIENT_ID === undefined) {
      ctx.addIssue({ code: 'custom', path: ['CONSOLE_OIDC_SCOPE'], message: 'is only used with CONSOLE_OIDC_CLIENT_ID (set it, or unset CONSOLE_OIDC_SCOPE)' });
    }
    // The browser fetches the issuer's discovery document and token endpoint: an issuer that is no URL, or
    // plain http beyond this machine, would fail there (or hand the code and the token out unencrypted).
    if (env.CONSOLE_OIDC_CLIENT_ID !== undefined && env.AUTH_ISSUER !== undefined && oidcIssuerRefusal(env.AUTH_ISSUER)) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_ISSUER'], message: oidcIssuerRefusal(env.AUTH_ISSUER)! });
    }
    // The embedded issuer would mint tokens that the verifier then refuses.
    if (env.AUTH_MAX_TOKEN_LIFETIME_SECONDS !== undefined && env.AUTH_MAX_TOKEN_LIFETIME_SECONDS < env.TOKEN_MAX_TTL_SECONDS && env.AUTH_JWKS_URL === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_MAX_TOKEN_LIFETIME_SECONDS'],
        message: `is below TOKEN_MAX_TTL_SECONDS (${env.TOKEN_MAX_TTL_SECONDS}): tokens the local issuer may mint would be refused`,
      });
    }
    if (env.WEBHOOK_ALLOWED_ORIGINS !== undefined) {
      const bad = allowedOriginsRefusal(env.WEBHOOK_ALLOWED_ORIGINS);
      if (bad) ctx.addIssue({ code: 'custom', path: ['WEBHOOK_ALLOWED_ORIGINS'], message: bad });
    }
    // A timeout without a TSA would read as if time-stamping were on.
    if (env.TSA_TIMEOUT_MS !== undefined && env.TSA_URL === undefined) {
      ctx.addIssue({ code: 'custom', path: ['TSA_TIMEOUT_MS'], message: 'TSA_TIMEOUT_MS is only used with TSA_URL (set it, or unset TSA_TIMEOUT_MS)' });
    }
    // Same reasoning for keys: KMS names without KEY_BACKEND=kms would silently sign with local files.
    for (const variable of env.KEY_BACKEND === 'kms' ? KMS_REQUIRED : KMS_ONLY) {
      const missing = env[variable] === undefined;
      if (env.KEY_BACKEND === 'kms' && missing) {
        ctx.addIssue({ code: 'custom', path: [variable], message: `${variable} is required with KEY_BACKEND=kms` });
      } else if (env.KEY_BACKEND === 'local' && !missing) {
        ctx.addIssue({ code: 'custom', path: [variable], message: `${variable} is only used with KEY_BACKEND=kms (set it, or unset ${variable})` });
      }
    }
  });

/** WEBHOOK_ALLOWED_ORIGINS as origins (`scheme://host[:port]`, lower case, default port dropped), in order. */
export function parseAllowedOrigins(list: string | undefined): string[] {
  if (list === undefined) return [];
  return [
    ...new Set(
      list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => new URL(s).origin),
    ),
  ];
}

/** Why WEBHOOK_ALLOWED_ORIGINS cannot be used (null: it can): each entry an http(s) origin, nothing after it. */
export function allowedOriginsRefusal(list: string): string | null {
  for (const entry of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      return `${entry} is not an origin (scheme://host[:port], e.g. https://hooks.distributor.example)`;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${entry}: only http:// and https:// origins`;
    if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
      return `${entry} is not an origin: no path, query, fragment or user (scheme://host[:port])`;
    }
  }
  return null;
}

/**
 * Where the service's signing keys live. `local`: PEM files in the keys directory (`clearframe keys
 * init`). `kms`: Cloud KMS key versions for the audit checkpoint (EC_SIGN_ED25519), clearance and C2PA
 * (EC_SIGN_P256_SHA256) keys; the token issuer key of the embedded auth mode stays local.
 */
export type KeysConfig =
  | { backend: 'local' }
  | {
      backend: 'kms';
      auditKey: string;
      clearanceKey: string;
      c2paKey: string;
      /** The C2PA signing certificate (for c2paKey) and its intermediates, leaf first, root omitted. */
      c2paCertChainPem: string;
      c2paCertChainFile: string;
      /** The root that issued the chain, when configured with C2PA_TRUST_ANCHOR. */
      c2paTrustAnchorPem: string | undefined;
      /** How long one Cloud KMS call may take, retries included (KMS_TIMEOUT_MS). */
      timeoutMs: number;
      /** Unset: cloudkms.googleapis.com with Application Default Credentials. */
      endpoint: { host: string; port: number | undefined; protocol: 'http' | 'https' } | undefined;
    };

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  keysDir: string;
  databaseUrl: string | undefined;
  publicUrl: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  auth: { mode: 'local'; issuer: string; audience: string } | { mode: 'jwks'; jwksUrl: string; issuer: string; audience: string };
  /**
   * The console's sign-in. null: a bearer token pasted into its one field. Set (CONSOLE_OIDC_CLIENT_ID, with
   * the jwks auth mode): the OpenID Connect authorization-code flow with PKCE at the auth issuer, in the browser.
   */
  consoleOidc: { issuer: string; clientId: string; scope: string } | null;
  auditOrigin: string;
  maxUploadBytes: number;
  /** What the HTTP server accepts from a client (see the README's Configuration section). */
  http: {
    /** JSON bodies; routes that take asset-id lists accept maxJsonListBytes. */
    maxJsonBytes: number;
    maxJsonListBytes: number;
    /** Requests per client per window; 0: no limit. */
    rateLimit: { requests: number; windowMs: number };
    /** Clients are named by the right-most X-Forwarded-For entry (a proxy in front adds it). */
    trustProxy: boolean;
    /** The whole request, body included, must arrive within requestTimeoutMs; its headers within headersTimeoutMs. */
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    maxHeaderBytes: number;
    /** Open connections from one address; 0: no limit. */
    maxConnectionsPerClient: number;
  };
  policiesDir: string;
  clearance: { issuer: string; audience: string; ttlSeconds: number };
  /** The longest lifetime `clearframe token issue --ttl` accepts. */
  tokenMaxTtlSeconds: number;
  /** The verifier refuses a token whose lifetime (`exp - iat`) is longer, whoever issued it. */
  tokenMaxLifetimeSeconds: number;
  /** Start-up retries, and the connections one process opens to PostgreSQL at most (its pool). */
  databaseConnect: { attempts: number; intervalMs: number; maxConnections: number };
  /** Vertex AI tuning; null when not configured (tuning answers 503, everything else works). */
  vertex: { project: string; location: string; apiEndpoint: string | undefined } | null;
  /** How often the taint sweep writes the audit events that expired license terms caused (0: never). */
  taintSweepSeconds: number;
  /** Extra PEM roots trusted when verifying C2PA manifests (the local CA is always trusted). */
  trustAnchorsPem: string[];
  /** Worker threads that c2pa-rs reads and signs on (0: on the main thread). */
  c2paWorkers: number;
  /** softBinding: whether still images are fingerprinted (PDQ) at signing, recorded and stated in the manifest. */
  outputs: { maxBytes: number; promptDisclosure: 'hash' | 'full'; allowFurtherTraining: boolean; softBinding: 'pdq' | 'off' };
  /**
   * RFC 3161 time-stamp authority for the C2PA signatures of outputs; null: none. When set, an output
   * is signed only with a token from it (a TSA failure fails the request).
   */
  timestamping: { url: string; timeoutMs: number } | null;
  keys: KeysConfig;
  /**
   * Webhook notifications: the origins callback URLs may have (none: no subscription can be made and no
   * worker runs), the worker's poll interval and each delivery's timeout, the retries (exponential from
   * retryBaseMs, at most retryCapMs apart, failed after maxAttempts), and how often `license.ending` is
   * checked (0: never).
   */
  notifications: {
    allowedOrigins: string[];
    workerIntervalMs: number;
    timeoutMs: number;
    maxAttempts: number;
    retryBaseMs: number;
    retryCapMs: number;
    endingCheckSeconds: number;
  };
};

/** How long one TSA request may take. Signing waits for it inside the audit append, so keep it short. */
export const DEFAULT_TSA_TIMEOUT_MS = 10_000;

/** Cloud KMS calls at start and per signature; the client's own default is 30 s. */
export const DEFAULT_KMS_TIMEOUT_MS = 10_000;

/** The policies shipped with this checkout: <repo>/policies. */
export const SHIPPED_POLICIES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../policies');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), message: i.message })));
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const publicUrl = e.PUBLIC_URL ?? `http://${e.HOST.includes(':') && !e.HOST.startsWith('[') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    keysDir: path.resolve(e.KEYS_DIR ?? path.join(dataDir, 'keys')),
    databaseUrl: e.DATABASE_URL,
    publicUrl,
    logLevel: e.LOG_LEVEL,
    auth: e.AUTH_JWKS_URL
      ? { mode: 'jwks', jwksUrl: e.AUTH_JWKS_URL, issuer: e.AUTH_ISSUER!, audience: e.AUTH_AUDIENCE! }
      : { mode: 'local', issuer: e.AUTH_ISSUER ?? 'clearframe-local', audience: e.AUTH_AUDIENCE ?? 'clearframe' },
    consoleOidc: e.CONSOLE_OIDC_CLIENT_ID && e.AUTH_JWKS_URL ? { issuer: e.AUTH_ISSUER!, clientId: e.CONSOLE_OIDC_CLIENT_ID, scope: e.CONSOLE_OIDC_SCOPE ?? 'openid' } : null,
    auditOrigin: e.AUDIT_ORIGIN ?? `${new URL(publicUrl).host}/clearframe/audit`,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    http: {
      maxJsonBytes: e.MAX_JSON_BYTES,
      maxJsonListBytes: e.MAX_JSON_LIST_BYTES,
      rateLimit: { requests: e.RATE_LIMIT_REQUESTS, windowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000 },
      trustProxy: e.TRUST_PROXY === 'true',
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      maxHeaderBytes: e.MAX_HEADER_BYTES,
      maxConnectionsPerClient: e.MAX_CONNECTIONS_PER_CLIENT,
    },
    policiesDir: path.resolve(e.POLICIES_DIR ?? SHIPPED_POLICIES_DIR),
    clearance: { issuer: publicUrl, audience: e.CLEARANCE_AUDIENCE, ttlSeconds: e.CLEARANCE_TTL_SECONDS },
    tokenMaxTtlSeconds: e.TOKEN_MAX_TTL_SECONDS,
    tokenMaxLifetimeSeconds: e.AUTH_MAX_TOKEN_LIFETIME_SECONDS ?? e.TOKEN_MAX_TTL_SECONDS,
    databaseConnect: { attempts: e.DATABASE_CONNECT_ATTEMPTS, intervalMs: e.DATABASE_CONNECT_INTERVAL_MS, maxConnections: e.DATABASE_MAX_CONNECTIONS },
    vertex: e.VERTEX_PROJECT && e.VERTEX_LOCATION ? { project: e.VERTEX_PROJECT, location: e.VERTEX_LOCATION, apiEndpoint: e.VERTEX_API_ENDPOINT } : null,
    taintSweepSeconds: e.TAINT_SWEEP_SECONDS,
    trustAnchorsPem: e.C2PA_TRUST_ANCHORS ? readPemFiles(e.C2PA_TRUST_ANCHORS) : [],
    c2paWorkers: e.C2PA_WORKERS ?? availableParallelism(),
    outputs: { maxBytes: e.MAX_OUTPUT_BYTES, promptDisclosure: e.STORE_PROMPTS, allowFurtherTraining: e.OUTPUTS_ALLOW_TRAINING === 'true', softBinding: e.OUTPUT_SOFT_BINDING },
    timestamping: e.TSA_URL ? { url: e.TSA_URL, timeoutMs: e.TSA_TIMEOUT_MS ?? DEFAULT_TSA_TIMEOUT_MS } : null,
    keys: e.KEY_BACKEND === 'kms' ? kmsKeysConfig(e) : { backend: 'local' },
    notifications: {
      allowedOrigins: parseAllowedOrigins(e.WEBHOOK_ALLOWED_ORIGINS),
      workerIntervalMs: e.WEBHOOK_WORKER_INTERVAL_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryCapMs: e.WEBHOOK_RETRY_CAP_MS,
      endingCheckSeconds: e.LICENSE_ENDING_CHECK_SECONDS,
    },
  };
}

function kmsKeysConfig(e: z.infer<typeof envSchema>): KeysConfig {
  const chainFile = path.resolve(e.C2PA_CERT_CHAIN!);
  const chain = readPemFile('C2PA_CERT_CHAIN', chainFile);
  const anchor = e.C2PA_TRUST_ANCHOR ? readPemFile('C2PA_TRUST_ANCHOR', path.resolve(e.C2PA_TRUST_ANCHOR)) : undefined;
  let endpoint: Extract<KeysConfig, { backend: 'kms' }>['endpoint'];
  if (e.KMS_API_ENDPOINT) {
    const url = new URL(e.KMS_API_ENDPOINT);
    endpoint = {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : undefined,
      protocol: url.protocol === 'http:' ? 'http' : 'https',
    };
  }
  return {
    backend: 'kms',
    auditKey: e.KMS_AUDIT_KEY!,
    clearanceKey: e.KMS_CLEARANCE_KEY!,
    c2paKey: e.KMS_C2PA_KEY!,
    c2paCertChainPem: chain,
    c2paCertChainFile: chainFile,
    c2paTrustAnchorPem: anchor,
    timeoutMs: e.KMS_TIMEOUT_MS ?? DEFAULT_KMS_TIMEOUT_MS,
    endpoint,
  };
}

/** A PEM file holding at least one certificate. */
function readPemFile(variable: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ variable, message: `cannot read ${file}: ${(err as Error).message}` }]);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError([{ variable, message: `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` }]);
  }
  return text;
}

/** C2PA_TRUST_ANCHORS: PEM files, separated by the platform's path delimiter. */
function readPemFiles(list: string): string[] {
  const out: string[] = [];
  for (const file of list.split(path.delimiter).filter(Boolean)) {
    try {
      out.push(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError([{ variable: 'C2PA_TRUST_ANCHORS', message: `cannot read ${file}: ${(err as Error).message}` }]);
    }
  }
  return out;
}
