import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from './config.ts';

/**
 * The identity a running service signs with: its public URL (the clearance issuer), the audit log's
 * origin line and, in the embedded auth mode, its token issuer and audience. `serve` writes it to
 * DATA_DIR at start; the commands that sign for the service (`audit export`, `token issue`) read it,
 * so that they use the same origin as the service even when their environment differs (PORT not
 * exported gave another default PUBLIC_URL, and a bundle signed for an origin the published key's
 * checkpoints never carried).
 */
export const IDENTITY_FILE = 'identity.json';

const identitySchema = z.object({
  publicUrl: z.url(),
  auditOrigin: z.string().min(1),
  clearanceIssuer: z.string().min(1),
  tokenIssuer: z.string().min(1).optional(),
  tokenAudience: z.string().min(1).optional(),
});

export type ServiceIdentity = z.infer<typeof identitySchema>;

export function identityOf(config: Config): ServiceIdentity {
  return {
    publicUrl: config.publicUrl,
    auditOrigin: config.auditOrigin,
    clearanceIssuer: config.clearance.issuer,
    ...(config.auth.mode === 'local' ? { tokenIssuer: config.auth.issuer, tokenAudience: config.auth.audience } : {}),
  };
}

/** Written atomically (a temporary file renamed over it): a reader never sees half of one. */
export function writeServiceIdentity(config: Config): string {
  mkdirSync(config.dataDir, { recursive: true });
  const file = path.join(config.dataDir, IDENTITY_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...identityOf(config), writtenAt: new Date().toISOString(), pid: process.pid }, null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}

/** The identity `serve` last wrote in DATA_DIR; undefined when there is none. A damaged file is an error naming it. */
export function readServiceIdentity(dataDir: string): { file: string; identity: ServiceIdentity } | undefined {
  const file = path.join(dataDir, IDENTITY_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON; remove it (serve writes it again at start)`);
  }
  const parsed = identitySchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is not a service identity; remove it (serve writes it again at start)`);
  return { file, identity: parsed.data };
}

/** config with the service's identity in place of the one this environment would give. */
export function withServiceIdentity(config: Config, identity: ServiceIdentity): Config {
  return {
    ...config,
    publicUrl: identity.publicUrl,
    auditOrigin: identity.auditOrigin,
    clearance: { ...config.clearance, issuer: identity.clearanceIssuer },
    auth:
      config.auth.mode === 'local' ? { ...config.auth, issuer: identity.tokenIssuer ?? config.auth.issuer, audience: identity.tokenAudience ?? config.auth.audience } : config.auth,
  };
}
