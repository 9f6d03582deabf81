import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import pino, { type Logger } from 'pino';
import { createApp } from './app.ts';
import type { AppContext } from './app-context.ts';
import { Ledger } from './audit/ledger.ts';
import { tokenVerifier } from './auth/tokens.ts';
import type { Config } from './config/config.ts';
import { type Database, openDatabase } from './db/database.ts';
import { PolicyRegistry } from './gate/policy-registry.ts';
import { Problem } from './http/problem.ts';
import { registerKeys } from './keys/register.ts';
import { type Notifications, startNotifications } from './notifications/running.ts';
import { createC2paWasmEngine } from './provenance/c2pa/c2pa-wasm.ts';
import { httpTimestampAuthority } from './provenance/c2pa/tsa-client.ts';
import { initKeys, type Keyring, loadKeyring } from './signing/keyring.ts';
import { KmsSignerError } from './signing/kms-signer.ts';
import { parseApiEndpoint, vertexTuningBackend } from './tuning/vertex.ts';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'clearframe' },
    redact: { paths: ['req.headers.authorization', '*.token', '*.authorization', 'token'], censor: '[redacted]' },
  });
}

/** A start-up failure stated in one line, naming what to change; the CLI prints it as it is. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/**
 * The configured database, answering: PostgreSQL is tried `config.databaseConnect.attempts` times
 * (a server still starting, a container not yet up), then the failure names DATABASE_URL (its host and
 * database only: the URL may hold a password). PGlite failures name the directory and DATA_DIR.
 */
export async function openConfiguredDatabase(config: Config, opts: { logger?: Logger } = {}): Promise<Database> {
  if (!config.databaseUrl) {
    const dir = path.join(config.dataDir, 'pglite');
    try {
      return await openDatabase({ kind: 'pglite', dataDir: dir });
    } catch (e) {
      const message = firstLine(e);
      // The lock's own message already names the directory and what to do.
      if (/in use by process/.test(message)) throw new StartupError(message, { cause: e });
      throw new StartupError(`cannot open the embedded database in ${dir} (DATA_DIR=${config.dataDir}, or set DATABASE_URL): ${message}`, { cause: e });
    }
  }
  const where = describeDatabaseUrl(config.databaseUrl);
  const { attempts, intervalMs } = config.databaseConnect;
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    const database = await openDatabase({ kind: 'postgres', url: config.databaseUrl, maxConnections: config.databaseConnect.maxConnections });
    try {
      await database.db.execute(sql`select 1`);
      return database;
    } catch (thrown) {
      await database.close().catch(() => {});
      // drizzle wraps the driver's error ("Failed query: ..."): the driver's says what went wrong.
      const e = thrown instanceof Error && thrown.cause instanceof Error ? thrown.cause : thrown;
      const sqlState = (e as { code?: unknown }).code;
      // A PostgreSQL answer (bad password, no such database) will not change by waiting; 57P03: starting up.
      const answered = typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState) && sqlState !== '57P03';
      if (answered || attempt >= attempts) {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const tries = answered ? '' : ` after ${attempts} attempt${attempts === 1 ? '' : 's'} over ${seconds} s (DATABASE_CONNECT_ATTEMPTS)`;
        throw new StartupError(`cannot use the database at DATABASE_URL (${where})${tries}: ${firstLine(e)}`, { cause: e });
      }
      opts.logger?.warn({ database: where, attempt, of: attempts, err: firstLine(e) }, 'database not answering yet; retrying');
      await sleep(intervalMs);
    }
  }
}

/** host:port/database of a postgres:// URL, without user or password. */
function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return 'unparsable URL';
  }
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message || String((e as NodeJS.ErrnoException).code ?? e.name) : String(e);
  const line = text.split('\n')[0]!.trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * Cloud KMS not answering (refused, unreachable, no answer within the deadline) as one line naming
 * KMS_API_ENDPOINT and KMS_TIMEOUT_MS; gax's own message repeats every retried error and runs to kilobytes.
 */
function kmsUnreachable(config: Config, e: unknown): StartupError | undefined {
  if (config.keys.backend !== 'kms') return undefined;
  let cause: unknown = e;
  while (cause instanceof Error && !(cause instanceof KmsSignerError)) cause = cause.cause;
  if (!(cause instanceof KmsSignerError) || (cause.grpcCode !== 14 && cause.grpcCode !== 4)) return undefined;
  const variable = /^(KMS_[A-Z0-9_]+):/.exec((e as Error).message)?.[1] ?? 'the KMS keys';
  const { endpoint, timeoutMs } = config.keys;
  const at = endpoint
    ? `KMS_API_ENDPOINT (${endpoint.protocol}://${endpoint.host}${endpoint.port ? `:${endpoint.port}` : ''})`
    : 'cloudkms.googleapis.com (KMS_API_ENDPOINT unset)';
  return new StartupError(`Cloud KMS at ${at} did not answer for ${variable} within KMS_TIMEOUT_MS=${timeoutMs} ms: ${cause.status ?? 'UNAVAILABLE'}`, { cause: e });
}

export type Runtime = { ctx: AppContext; app: ReturnType<typeof createApp>; close(): Promise<void> };

/** Everything the service needs, in start-up order: database and migrations, keys, then the routes. */
export async function startRuntime(config: Config, opts: { database?: Database; logger?: Logger } = {}): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(config);
  const database = opts.database ?? (await openConfiguredDatabase(config, { logger }));
  let keyring: Keyring | undefined;
  let notifications: Notifications | undefined;
  try {
    await database.migrate();
    const created = initKeys(config.keysDir, config.keys);
    if (created.length > 0) logger.info({ keysDir: config.keysDir, created }, 'created local keys');
    keyring = await loadKeyring(config.keysDir, config.keys).catch((e: unknown) => {
      throw kmsUnreachable(config, e) ?? e;
    });
    logger.info({ backend: keyring.backend, audit: keyring.audit.kid, clearance: keyring.clearance.kid, c2pa: keyring.c2pa.signer.kid }, 'signing keys loaded');
    const ledger = new Ledger(database);
    await registerKeys(ledger, [
      { purpose: 'audit-checkpoint', signer: keyring.audit },
      { purpose: 'clearance', signer: keyring.clearance },
      { purpose: 'c2pa-signing', signer: keyring.c2pa.signer },
      ...(config.auth.mode === 'local' ? [{ purpose: 'token-issuer', signer: keyring.tokenIssuer.signer }] : []),
    ]);
    const verifyToken = tokenVerifier(config.auth, keyring.tokenIssuer.signer.publicJwk as Record<string, unknown>, config.tokenMaxLifetimeSeconds);
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
    // Deliveries are signed with the clearance key (ES256, in /.well-known/jwks.json), typed apart from clearances.
    notifications = startNotifications({ config, database, ledger, signer: keyring.clearance, logger });
    const ctx: AppContext = {
      config,
      database,
      ledger,
      keyring,
      verifyToken,
      logger,
      policies,
      c2pa: createC2paWasmEngine({ trustAnchorsPem: [...keyring.c2pa.trustAnchorsPem, ...config.trustAnchorsPem], workers: config.c2paWorkers }),
      timestampAuthority,
      tuning,
      notifications,
    };
    return {
      ctx,
      app: createApp(ctx),
      async close() {
        await ctx.notifications.stop().catch(() => {});
        await ctx.c2pa.close?.().catch(() => {});
        await tuning?.backend.close().catch(() => {});
        await keyring?.close();
        await database.close();
      },
    };
  } catch (e) {
    await notifications?.stop().catch(() => {});
    await keyring?.close();
    await database.close().catch(() => {});
    throw e;
  }
}

/**
 * Node's own answers to a request it could not hand to the app (headers too large, a request that did not
 * arrive in time, bytes that are not HTTP), as problem+json. Written on the socket as Node itself would,
 * then the connection is closed: what is left on it cannot be read as a next request.
 */
export function clientErrorAnswer(err: NodeJS.ErrnoException): { status: number; raw: string } | undefined {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return undefined;
  const problem =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new Problem(431, 'headers-too-large', 'the request headers are larger than this server accepts (MAX_HEADER_BYTES)')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADERS_TIMEOUT'
        ? new Problem(408, 'request-timeout', 'the request did not arrive in time (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS)')
        : new Problem(400, 'bad-request', 'the request is not HTTP/1.1 this server can read');
  const body = JSON.stringify(problem.body());
  const raw = [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
  return { status: problem.status, raw };
}

/**
 * The service on a node:http server: Node's limits from the configuration (the whole request within
 * REQUEST_TIMEOUT_MS, its headers within HEADERS_TIMEOUT_MS and MAX_HEADER_BYTES), Node's own error
 * answers as problem+json, and at most MAX_CONNECTIONS_PER_CLIENT open connections from one address.
 */
export function serveHttp(runtime: Pick<Runtime, 'app' | 'ctx'>, opts: { port: number; hostname: string }, onListening?: (info: AddressInfo) => void): Server {
  const { http } = runtime.ctx.config;
  const server = serve(
    {
      fetch: runtime.app.fetch,
      port: opts.port,
      hostname: opts.hostname,
      serverOptions: {
        requestTimeout: http.requestTimeoutMs,
        headersTimeout: http.headersTimeoutMs,
        maxHeaderSize: http.maxHeaderBytes,
        // Node looks for expired requests this often (30 s by default, which would stretch every timeout).
        connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(http.headersTimeoutMs / 4))),
      },
    },
    onListening,
  ) as Server<typeof IncomingMessage, typeof ServerResponse>;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = clientErrorAnswer(err);
    // A response already begun cannot be replaced by another.
    const begun = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent;
    if (answer && socket.writable && !begun) socket.end(answer.raw);
    else socket.destroy();
  });
  const max = http.maxConnectionsPerClient;
  if (max > 0) {
    const open = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? '';
      const count = (open.get(address) ?? 0) + 1;
      if (count > max) {
        socket.destroy();
        return;
      }
      open.set(address, count);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left > 0) open.set(address, left);
        else open.delete(address);
      });
    });
  }
  return server;
}
