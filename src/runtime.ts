import path from 'node:path';
import pino, { type Logger } from 'pino';
import { createApp } from './app.ts';
import type { AppContext } from './app-context.ts';
import { Ledger } from './audit/ledger.ts';
import { tokenVerifier } from './auth/tokens.ts';
import type { Config } from './config/config.ts';
import { type Database, openDatabase } from './db/database.ts';
import { PolicyRegistry } from './gate/policy-registry.ts';
import { registerKeys } from './keys/register.ts';
import { createC2paWasmEngine } from './provenance/c2pa/c2pa-wasm.ts';
import { httpTimestampAuthority } from './provenance/c2pa/tsa-client.ts';
import { initKeys, type Keyring, loadKeyring } from './signing/keyring.ts';
import { parseApiEndpoint, vertexTuningBackend } from './tuning/vertex.ts';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'clearframe' },
    redact: { paths: ['req.headers.authorization', '*.token', '*.authorization', 'token'], censor: '[redacted]' },
  });
}

export async function openConfiguredDatabase(config: Config): Promise<Database> {
  return config.databaseUrl ? openDatabase({ kind: 'postgres', url: config.databaseUrl }) : openDatabase({ kind: 'pglite', dataDir: path.join(config.dataDir, 'pglite') });
}

export type Runtime = { ctx: AppContext; app: ReturnType<typeof createApp>; close(): Promise<void> };

/** Everything the service needs, in start-up order: database and migrations, keys, then the routes. */
export async function startRuntime(config: Config, opts: { database?: Database; logger?: Logger } = {}): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(config);
  const database = opts.database ?? (await openConfiguredDatabase(config));
  let keyring: Keyring | undefined;
  try {
    await database.migrate();
    const created = initKeys(config.keysDir, config.keys);
    if (created.length > 0) logger.info({ keysDir: config.keysDir, created }, 'created local keys');
    keyring = await loadKeyring(config.keysDir, config.keys);
    logger.info({ backend: keyring.backend, audit: keyring.audit.kid, clearance: keyring.clearance.kid, c2pa: keyring.c2pa.signer.kid }, 'signing keys loaded');
    const ledger = new Ledger(database);
    await registerKeys(ledger, [
      { purpose: 'audit-checkpoint', signer: keyring.audit },
      { purpose: 'clearance', signer: keyring.clearance },
      { purpose: 'c2pa-signing', signer: keyring.c2pa.signer },
      ...(config.auth.mode === 'local' ? [{ purpose: 'token-issuer', signer: keyring.tokenIssuer.signer }] : []),
    ]);
    const verifyToken = tokenVerifier(config.auth, keyring.tokenIssuer.signer.publicJwk as Record<string, unknown>);
    const policies = await PolicyRegistry.open(config.policiesDir, ledger);
    logger.info({ policiesDir: config.policiesDir, digest: policies.current.digest, policies: policies.current.policies.length }, 'policy set loaded');
    const tuning = config.vertex
      ? {
          project: config.vertex.project,
          location: config.vertex.location,
          backend: vertexTuningBackend({
            project: config.vertex.project,
            location: config.vertex.location,
            clientOptions: config.vertex.apiEndpoint ? parseApiEndpoint(config.vertex.apiEndpoint) : {},
          }),
        }
      : null;
    const timestampAuthority = config.timestamping ? httpTimestampAuthority(config.timestamping) : null;
    if (timestampAuthority) logger.info({ tsa: timestampAuthority.name, timeoutMs: config.timestamping!.timeoutMs }, 'output signatures are time-stamped');
    const ctx: AppContext = {
      config,
      database,
      ledger,
      keyring,
      verifyToken,
      logger,
      policies,
      c2pa: createC2paWasmEngine({ trustAnchorsPem: [...keyring.c2pa.trustAnchorsPem, ...config.trustAnchorsPem], readThread: true }),
      timestampAuthority,
      tuning,
    };
    return {
      ctx,
      app: createApp(ctx),
      async close() {
        await ctx.c2pa.close?.().catch(() => {});
        await tuning?.backend.close().catch(() => {});
        await keyring?.close();
        await database.close();
      },
    };
  } catch (e) {
    await keyring?.close();
    await database.close().catch(() => {});
    throw e;
  }
}
