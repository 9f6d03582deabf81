import './v8-flags.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { type EvidenceBundle, verifyBundle } from './audit/bundle.ts';
import { exportEvidence } from './audit/export.ts';
import { type LogFetch, type MonitorResult, type MonitorState, monitorLog } from './audit/monitor.ts';
import { describeDisagreement } from './audit/state-check.ts';
import { verifyStoredLog } from './audit/verify-log.ts';
import { issueToken, ROLES, type Role } from './auth/tokens.ts';
import { sweepTaints } from './checkpoints/service.ts';
import { type Config, ConfigError, loadConfig } from './config/config.ts';
import { readServiceIdentity, withServiceIdentity, writeServiceIdentity } from './config/identity.ts';
import { verifyExitCode } from './outputs/verify-exit.ts';
import { verifyOffline } from './outputs/verify-offline.ts';
import { createC2paWasmEngine } from './provenance/c2pa/c2pa-wasm.ts';
import { openConfiguredDatabase, StartupError, startRuntime } from './runtime.ts';
import { C2PA_FILES, initKeys, loadKeyring } from './signing/keyring.ts';
import { verifyState } from './state-projections.ts';

const USAGE = `clearframe <command>

  serve [--port N] [--host H]            run the service (PGlite in DATA_DIR unless DATABASE_URL is set);
                                         --port and --host override PORT and HOST
  migrate                                apply database migrations and exit
  keys init                              create the local keys that are missing (never overwrites)
  token issue --role ROLE --sub NAME [--vendor ID] [--ttl 1h]
                                         print a bearer token from the local issuer key (--ttl: 90s, 15m,
                                         1h, 7d; at most TOKEN_MAX_TTL_SECONDS)
  audit verify [--hash-here] [--skip-state]
                                         recompute the whole log from the database; names the first bad entry
                                         (--hash-here: leaf hashes here too, not by PostgreSQL beside the rows);
                                         then replays the log against the state tables and names the first
                                         row that disagrees (--skip-state: not that)
  audit verify --bundle FILE [--key VKEY]
                                         check an evidence bundle offline, without the server
  audit export --from N [--to M] [--out FILE]
                                         write an evidence bundle for entries N..M-1
  audit monitor URL [--state FILE] [--key VKEY] [--token T]
                                         check the log at URL still extends the checkpoint kept in FILE
                                         (consistency proof; --token: legal or admin); exit 0 when it does,
                                         1 on a rollback or fork, 3 when it cannot be checked
  verify FILE [--server URL [--token T]] [--bundle FILE [--key VKEY]] [--trust URL|FILE] [--type MIME]
                                         check a signed output: with a server, its full verdict
                                         (ledger match, standing, proof); without, the manifest
                                         against the local trust anchors and, given a bundle, the proofs;
                                         --trust: the anchors a service publishes (its /v1/trust/c2pa, or
                                         that PEM saved to a file)

clearframe --help, clearframe COMMAND --help: this text. Bad usage or configuration exits with 2.

Configuration comes from the environment; see README.md.`;

/** One line on stderr, then exit: 2 for what the caller got wrong (usage, configuration), else 1. */
function fail(message: string, code = 2): never {
  process.stderr.write(`clearframe: ${message}\n`);
  process.exit(code);
}

/** A usage mistake: the one-line reason, then the usage, on stderr; exit 2. */
function usage(message: string): never {
  fail(`${message}\n\n${USAGE}`, 2);
}

/** parseArgs' own errors (unknown option, missing value, stray argument) are usage errors. */
function isParseArgsError(e: unknown): e is Error {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).code!.startsWith('ERR_PARSE_ARGS_');
}

/** Flags of a command without options of its own: any is refused. */
function noFlags(args: string[]): void {
  parseArgs({ args, options: {} });
}

/** `--ttl` as seconds: a number of seconds, or N followed by s, m, h or d. */
function ttlSeconds(ttl: string): number | undefined {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(ttl.trim());
  if (!m) return undefined;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}

/**
 * The identity the service last ran with (DATA_DIR/identity.json) in place of this environment's,
 * for the commands that sign for it: said in one line on stderr when used.
 */
function asTheService(config: Config): Config {
  const found = readServiceIdentity(config.dataDir);
  if (!found) return config;
  const { identity, file } = found;
  process.stderr.write(
    `note: using the identity the service wrote in ${file} (PUBLIC_URL ${identity.publicUrl}, AUDIT_ORIGIN ${identity.auditOrigin}${identity.tokenIssuer ? `, issuer ${identity.tokenIssuer}` : ''})\n`,
  );
  return withServiceIdentity(config, identity);
}

function configFrom(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  if (command === undefined || command === 'help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const known = ['serve', 'migrate', 'keys', 'token', 'audit', 'verify'];
  if (!known.includes(command)) usage(`unknown command ${command}`);
  let config = configFrom(process.env);

  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: argv.slice(1), options: { port: { type: 'string' }, host: { type: 'string' } } });
      // The flags stand for PORT and HOST: the same validation, and the same derived PUBLIC_URL.
      if (values.port !== undefined || values.host !== undefined) {
        config = configFrom({ ...process.env, ...(values.port !== undefined ? { PORT: values.port } : {}), ...(values.host !== undefined ? { HOST: values.host } : {}) });
      }
      // A signal during start-up (migrations, keys) is kept until the runtime is whole, then it stops the
      // same way: killed in the middle, the embedded database could be left half-written. A second one exits.
      let signalledEarly: NodeJS.Signals | undefined;
      const early = (signal: NodeJS.Signals) => {
        if (signalledEarly) process.exit(1);
        signalledEarly = signal;
        process.stderr.write(`clearframe: ${signal} during start-up; stopping once started (again to exit now)\n`);
      };
      process.on('SIGINT', early);
      process.on('SIGTERM', early);
      const runtime = await startRuntime(config);
      process.off('SIGINT', early);
      process.off('SIGTERM', early);
      const { logger } = runtime.ctx;
      if (signalledEarly) {
        await runtime.close();
        logger.info({ signal: signalledEarly }, 'clearframe stopped');
        process.exit(0);
      }
      // Without TLS or HTTP/2 options @hono/node-server's server is a node:http Server.
      const server = serve({ fetch: runtime.app.fetch, port: config.port, hostname: config.host }, (info) => {
        const identityFile = writeServiceIdentity(config);
        logger.info({ url: `http://${config.host}:${info.port}`, publicUrl: config.publicUrl, database: runtime.ctx.database.kind, identityFile }, 'clearframe listening');
      });
      const http = server as Server;
      server.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${config.host}:${config.port}`;
        const message =
          err.code === 'EADDRINUSE'
            ? `port ${config.port} on ${config.host} is already in use (set PORT or HOST, or serve --port N --host H)`
            : err.code === 'EACCES'
              ? `not allowed to listen on ${where} (a port below 1024 needs privileges; set PORT or HOST)`
              : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
                ? `cannot listen on ${where}: HOST=${config.host} is not an address of this machine (set HOST)`
                : `cannot listen on ${where} (HOST, PORT): ${err.message}`;
        void runtime.close().finally(() => fail(message, 1));
      });
      // Expired license terms taint on read at once; the sweep writes their audit events.
      const sweep =
        config.taintSweepSeconds > 0
          ? setInterval(() => {
              sweepTaints(runtime.ctx.ledger).then(
                (ids) => ids.length > 0 && logger.info({ checkpoints: ids }, 'taint sweep recorded expired licenses'),
                (err: unknown) => logger.error({ err }, 'taint sweep failed'),
              );
            }, config.taintSweepSeconds * 1000)
          : undefined;
      sweep?.unref();
      // SIGTERM (docker stop, npm start's parent, systemd) and SIGINT (Ctrl-C) stop the same way: no new
      // connections, idle ones closed at once, busy ones given a few seconds, then the database and its
      // lock released. A second signal, or a stop that hangs, exits at once.
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) process.exit(1);
        stopping = true;
        clearInterval(sweep);
        const started = performance.now();
        setTimeout(() => http.closeAllConnections(), 5_000).unref();
        setTimeout(() => {
          process.stderr.write(`clearframe: did not stop within 15 s of ${signal}; exiting\n`);
          process.exit(1);
        }, 15_000).unref();
        server.close(() => {
          void runtime.close().then(
            () => {
              logger.info({ signal, ms: Math.round(performance.now() - started) }, 'clearframe stopped');
              process.exit(0);
            },
            (err: unknown) => fail(`stopped on ${signal}, but closing failed: ${(err as Error).message}`, 1),
          );
        });
        http.closeIdleConnections();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      return;
    }
    case 'migrate': {
      noFlags(argv.slice(1));
      const db = await openConfiguredDatabase(config);
      await db.migrate();
      await db.close();
      process.stdout.write(`migrations applied (${db.kind})\n`);
      return;
    }
    case 'keys': {
      if (sub !== 'init') usage(`unknown: keys ${sub ?? ''}`);
      noFlags(rest);
      const created = initKeys(config.keysDir, config.keys);
      process.stdout.write(created.length ? `created ${created.join(', ')} in ${config.keysDir}\n` : `all keys present in ${config.keysDir}\n`);
      return;
    }
    case 'token': {
      if (sub !== 'issue') usage(`unknown: token ${sub ?? ''}`);
      const { values } = parseArgs({
        args: rest,
        options: { role: { type: 'string' }, sub: { type: 'string' }, vendor: { type: 'string' }, ttl: { type: 'string', default: '1h' } },
      });
      if (!values.role || !ROLES.includes(values.role as Role)) fail(`--role must be one of ${ROLES.join(', ')}`);
      if (!values.sub) fail('--sub NAME is required');
      if (values.role === 'vendor' && !values.vendor) fail('a vendor token needs --vendor ID');
      const ttl = ttlSeconds(values.ttl!);
      if (ttl === undefined || ttl < 1) fail(`--ttl ${values.ttl}: not a duration (seconds, or N followed by s, m, h or d: 90s, 15m, 1h, 7d)`);
      if (ttl > config.tokenMaxTtlSeconds)
        fail(`--ttl ${values.ttl} is longer than TOKEN_MAX_TTL_SECONDS=${config.tokenMaxTtlSeconds} (${config.tokenMaxTtlSeconds / 86_400} days)`);
      if (config.auth.mode !== 'local') fail('tokens come from your identity provider when AUTH_JWKS_URL is set');
      config = asTheService(config);
      initKeys(config.keysDir, config.keys);
      const keyring = await loadKeyring(config.keysDir, config.keys);
      const token = await issueToken(
        { privateKey: keyring.tokenIssuer.privateKey, kid: keyring.tokenIssuer.signer.kid },
        {
          issuer: config.auth.issuer,
          audience: config.auth.audience,
          sub: values.sub,
          role: values.role as Role,
          ...(values.vendor ? { vendor: values.vendor } : {}),
          ttl: `${ttl}s`,
        },
      );
      await keyring.close();
      process.stdout.write(`${token}\n`);
      return;
    }
    case 'audit': {
      if (sub === 'monitor') {
        process.exitCode = await auditMonitor(rest);
        return;
      }
      if (sub !== 'verify' && sub !== 'export') usage(`unknown: audit ${sub ?? ''}`);
      const { values } = parseArgs({
        args: rest,
        options: {
          bundle: { type: 'string' },
          key: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          out: { type: 'string' },
          'hash-here': { type: 'boolean' },
          'skip-state': { type: 'boolean' },
        },
      });
      if (sub === 'verify' && values.bundle) {
        const bundle = JSON.parse(readFileSync(values.bundle, 'utf8')) as EvidenceBundle;
        const verdict = await verifyBundle(bundle, values.key);
        process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
        if (verdict.keySource === 'bundle') process.stderr.write('note: checked with the key inside the bundle; pass --key with the published key to rule out a substituted one\n');
        process.exit(verdict.ok ? 0 : 1);
      }
      // Arguments first: a refusal then leaves no database open behind it.
      if (sub === 'export') {
        if (values.from === undefined || !/^\d+$/.test(values.from)) fail('--from N is required');
        if (values.to !== undefined && !/^\d+$/.test(values.to)) fail('--to must be a number');
      }
      const database = await openConfiguredDatabase(config);
      try {
        if (sub === 'verify') {
          const started = performance.now();
          const result = await verifyStoredLog(database, values['hash-here'] ? { leafHashes: 'here' } : {});
          // The state tables against the events, once the events themselves are known good: a forged row
          // (triggers disabled) is what a decision would otherwise be made on.
          const state = values['skip-state'] || !result.ok ? null : await verifyState(database.db);
          const seconds = (performance.now() - started) / 1000;
          const summary = {
            ...result,
            rootHash: result.rootHash ? Buffer.from(result.rootHash).toString('base64') : null,
            state: state ? { ok: state.ok, rows: state.rows, ...(state.problem ? { problem: state.problem, message: describeDisagreement(state.problem) } : {}) } : null,
            seconds: Number(seconds.toFixed(3)),
          };
          process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          if (state?.problem) process.stderr.write(`clearframe: state disagrees with the log: ${describeDisagreement(state.problem)}\n`);
          process.exitCode = result.ok && (state === null || state.ok) ? 0 : 1;
        } else if (sub === 'export') {
          config = asTheService(config);
          const keyring = await loadKeyring(config.keysDir, config.keys);
          const bundle = await exportEvidence(database.db, config.auditOrigin, keyring.audit, Number(values.from), values.to ? Number(values.to) : undefined).finally(() =>
            keyring.close(),
          );
          const text = `${JSON.stringify(bundle, null, 2)}\n`;
          if (values.out) writeFileSync(values.out, text);
          else process.stdout.write(text);
        } else usage(`unknown: audit ${sub ?? ''}`);
      } finally {
        await database.close();
      }
      return;
    }
    case 'verify': {
      const { values, positionals } = parseArgs({
        args: argv.slice(1),
        allowPositionals: true,
        options: {
          server: { type: 'string' },
          token: { type: 'string' },
          bundle: { type: 'string' },
          key: { type: 'string' },
          type: { type: 'string' },
          trust: { type: 'string' },
        },
      });
      const file = positionals[0];
      if (!file) fail(`verify needs a FILE\n\n${USAGE}`);
      const bytes = new Uint8Array(readFileSync(file));
      let result: { verdict: string };
      if (values.server) {
        const token = values.token ?? process.env.CLEARFRAME_TOKEN;
        if (!token) fail('--server needs --token (or CLEARFRAME_TOKEN) for a distributor, legal or admin token');
        const res = await fetch(new URL('/v1/verify', values.server), {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': values.type ?? 'application/octet-stream' },
          body: bytes,
        });
        result = (await res.json()) as { verdict: string };
        if (!res.ok) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          process.exit(2);
        }
      } else {
        const anchors = [...config.trustAnchorsPem];
        const localCa = path.join(config.keysDir, C2PA_FILES.caCert);
        if (existsSync(localCa)) anchors.push(readFileSync(localCa, 'utf8'));
        if (values.trust) anchors.push(...(await trustAnchorsFrom(values.trust)));
        const bundle = values.bundle ? (JSON.parse(readFileSync(values.bundle, 'utf8')) as EvidenceBundle) : undefined;
        result = await verifyOffline(createC2paWasmEngine({ trustAnchorsPem: anchors }), bytes, {
          ...(values.type ? { mimeType: values.type } : {}),
          ...(bundle ? { bundle } : {}),
          ...(values.key ? { verifierKey: values.key } : {}),
        });
      }
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      const evidence = (result as { evidence?: { ok: boolean } | null }).evidence;
      process.exitCode = verifyExitCode({ ...result, evidence }); // one code per outcome: docs/outputs.md
      return;
    }
    default:
      usage(`unknown command ${command}`);
  }
}

/**
 * Every failure is one line on stderr (stdout stays for what a command prints: a token, a bundle, a
 * verdict), exit 2 for usage, 1 otherwise. LOG_LEVEL=debug or trace adds the stack for a developer.
 */
/** PEM certificates from a service's GET /v1/trust/c2pa (an http(s) URL) or a file: each block as a PEM. */
async function trustAnchorsFrom(source: string): Promise<string[]> {
  let text: string;
  if (/^https?:\/\//i.test(source)) {
    const res = await fetch(source).catch((e: unknown) => fail(`--trust: cannot reach ${source}: ${(e as Error).message}`, 1));
    if (!res.ok) fail(`--trust: ${source} answered ${res.status}`, 1);
    text = await res.text();
  } else {
    if (!existsSync(source)) fail(`--trust: no file ${source}`);
    text = readFileSync(source, 'utf8');
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) fail(`--trust: ${source} holds no PEM certificate`);
  return blocks.map((b) => `${b}\n`);
}

/**
 * `audit monitor`: the log at URL against the checkpoint this monitor last accepted (src/audit/monitor.ts).
 * The state file is written only when the log checks out, so a rollback or fork keeps being reported.
 */
async function auditMonitor(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { state: { type: 'string' }, key: { type: 'string' }, token: { type: 'string' } },
  });
  const [url, ...extra] = positionals;
  if (!url || extra.length > 0) usage('audit monitor needs one URL, the service to watch');
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    usage(`audit monitor: not a URL: ${url}`);
  }
  const state = values.state && existsSync(values.state) ? (JSON.parse(readFileSync(values.state, 'utf8')) as MonitorState) : undefined;
  const token = values.token ?? process.env.CLEARFRAME_TOKEN;
  const fetchLog: LogFetch = (p, headers) => fetch(new URL(p, base), { headers });
  let result: MonitorResult;
  try {
    result = await monitorLog(fetchLog, { ...(state ? { state } : {}), ...(values.key ? { verifierKey: values.key } : {}), ...(token ? { token } : {}) });
  } catch (e) {
    result = { status: 'invalid', detail: `cannot reach ${base.origin}: ${(e as Error).message}` };
  }
  const { state: next, ...shown } = result as MonitorResult & { state?: MonitorState };
  process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  if (next && values.state) writeFileSync(values.state, `${JSON.stringify(next, null, 2)}\n`);
  if (result.status === 'first' && result.keyFromLog)
    process.stderr.write('note: first run; the verifier key was taken from the log itself: pass --key with the published key to pin a known one\n');
  if (result.status === 'rolled-back' || result.status === 'forked') {
    process.stderr.write(`clearframe: ${result.detail}\n`);
    return 1;
  }
  if (result.status === 'invalid') {
    process.stderr.write(`clearframe: ${result.detail}\n`);
    return 3;
  }
  return 0;
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (isParseArgsError(e)) usage(e.message);
  if (e instanceof ConfigError) fail(e.message, 2);
  const text = e instanceof Error ? e.message : String(e);
  let line = text.split('\n')[0]!.trim() || (e instanceof Error ? e.name : 'failed');
  if (line.length > 400) line = `${line.slice(0, 400)}…`;
  process.stderr.write(`clearframe: ${line}\n`);
  if (!(e instanceof StartupError) && /^(debug|trace)$/.test(process.env.LOG_LEVEL ?? '')) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  process.exit(1);
});
