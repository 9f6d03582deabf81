import { readFileSync } from 'node:fs';
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
    AUDIT_ORIGIN: optionalString,
    MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(200 * 1024 * 1024),
    POLICIES_DIR: optionalString,
    CLEARANCE_TTL_SECONDS: z.coerce.number().int().min(60).max(366 * 24 * 3600).default(24 * 3600),
    CLEARANCE_AUDIENCE: z.string().min(1).default('clearframe-training'),
    VERTEX_PROJECT: optionalString,
    VERTEX_LOCATION: optionalString,
    VERTEX_API_ENDPOINT: optionalString,
    TAINT_SWEEP_SECONDS: z.coerce.number().int().min(0).max(24 * 3600).default(300),
    C2PA_TRUST_ANCHORS: optionalString,
    MAX_OUTPUT_BYTES: z.coerce.number().int().positive().default(100 * 1024 * 1024),
    STORE_PROMPTS: z.enum(['hash', 'full']).default('hash'),
    OUTPUTS_ALLOW_TRAINING: z.enum(['true', 'false']).default('false'),
  })
  .superRefine((env, ctx) => {
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
  });

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  keysDir: string;
  databaseUrl: string | undefined;
  publicUrl: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  auth:
    | { mode: 'local'; issuer: string; audience: string }
    | { mode: 'jwks'; jwksUrl: string; issuer: string; audience: string };
  auditOrigin: string;
  maxUploadBytes: number;
  policiesDir: string;
  clearance: { issuer: string; audience: string; ttlSeconds: number };
  /** Vertex AI tuning; null when not configured (tuning answers 503, everything else works). */
  vertex: { project: string; location: string; apiEndpoint: string | undefined } | null;
  /** How often the taint sweep writes the audit events that expired license terms caused (0: never). */
  taintSweepSeconds: number;
  /** Extra PEM roots trusted when verifying C2PA manifests (the local CA is always trusted). */
  trustAnchorsPem: string[];
  outputs: { maxBytes: number; promptDisclosure: 'hash' | 'full'; allowFurtherTraining: boolean };
};

/** The policies shipped with this checkout: <repo>/policies. */
export const SHIPPED_POLICIES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../policies');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), message: i.message })),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const publicUrl = e.PUBLIC_URL ?? `http://${e.HOST}:${e.PORT}`;
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
    auditOrigin: e.AUDIT_ORIGIN ?? `${new URL(publicUrl).host}/clearframe/audit`,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    policiesDir: path.resolve(e.POLICIES_DIR ?? SHIPPED_POLICIES_DIR),
    clearance: { issuer: publicUrl, audience: e.CLEARANCE_AUDIENCE, ttlSeconds: e.CLEARANCE_TTL_SECONDS },
    vertex: e.VERTEX_PROJECT && e.VERTEX_LOCATION ? { project: e.VERTEX_PROJECT, location: e.VERTEX_LOCATION, apiEndpoint: e.VERTEX_API_ENDPOINT } : null,
    taintSweepSeconds: e.TAINT_SWEEP_SECONDS,
    trustAnchorsPem: e.C2PA_TRUST_ANCHORS ? readPemFiles(e.C2PA_TRUST_ANCHORS) : [],
    outputs: { maxBytes: e.MAX_OUTPUT_BYTES, promptDisclosure: e.STORE_PROMPTS, allowFurtherTraining: e.OUTPUTS_ALLOW_TRAINING === 'true' },
  };
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
