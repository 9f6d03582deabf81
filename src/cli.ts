import './v8-flags.ts';
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync, type WriteStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BundleVerdict, EvidenceBundle } from './audit/bundle.ts';
import { BundleSyntaxError, verifyBundleFile } from './audit/bundle-file.ts';
import { streamEvidence, writeEvidence } from './audit/export.ts';
import { type LogFetch, type MonitorResult, type MonitorState, monitorLog } from './audit/monitor.ts';
import { describeDisagreement } from './audit/state-check.ts';
import { verifyStoredLog } from './audit/verify-log.ts';
import { issueToken, ROLES, type Role } from './auth/tokens.ts';
import { sweepTaints } from './checkpoints/service.ts';
import { type Config, ConfigError, loadConfig } from './config/config.ts';
import { readServiceIdentity, withServiceIdentity, writeServiceIdentity } from './config/identity.ts';
import type { Database } from './db/database.ts';
import { importCommand } from './import-command.ts';
import { verifyExitCode } from './outputs/verify-exit.ts';
import { verifyOffline } from './outputs/verify-offline.ts';
import { createC2paWasmEngine } from './provenance/c2pa/c2pa-wasm.ts';
import { openConfiguredDatabase, StartupError, serveHttp, startRuntime } from './runtime.ts';
import { C2PA_FILES, initKeys, type Keyring, loadKeyring } from './signing/keyring.ts';
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
                                         check an evidence bundle offline, without the server (read
                                         as a stream: any size)
  audit export --from N [--to M] [--out FILE]
                                         write an evidence bundle for entries N..M-1, streamed (progress
                                         and, at the end, the file, its entries and checkpoint size on stderr)
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
  import DIR --terms FILE [--production P] [--dry-run] [--skip-errors] [--amend] [--server URL --token T]
                                         register a folder of art with the terms its sheet (CSV or XLSX)
                                         gives each file; every row checked first, errors to FILE.errors.csv
                                         beside it; --dry-run plans only; run again to finish an interrupted one
  import --template                      print a terms sheet to start from

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

/** A stop that hangs (a connection, the database) exits after 15 s rather than holding the port forever. */
function exitIfStuck(signal: NodeJS.Signals): void {
  setTimeout(() => {
    process.stderr.write(`clearframe: did not stop within 15 s of ${signal}; exiting\n`);
    process.exit(1);
  }, 15_000).unref();
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  if (command === undefined || command === 'help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const known = ['serve', 'migrate', 'keys', 'token', 'audit', 'verify', 'import'];
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
      // One listener for the process's whole life: removing the last listener of a signal drops a signal that
      // has arrived but not yet been dispatched (seen: a SIGTERM at the end of start-up lost, the service
      // left running), so the listener stays and what it does changes once the service is up.
      let signalledEarly: NodeJS.Signals | undefined;
      let stopRunning: ((signal: NodeJS.Signals) => void) | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopRunning) return stopRunning(signal);
        if (signalledEarly) process.exit(1);
        signalledEarly = signal;
        process.stderr.write(`clearframe: ${signal} during start-up; stopping once started (again to exit now)\n`);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const runtime = await startRuntime(config);
      const { logger } = runtime.ctx;
      if (signalledEarly) {
        exitIfStuck(signalledEarly);
        await runtime.close();
        logger.info({ signal: signalledEarly }, 'clearframe stopped');
        process.exit(0);
      }
      const server = serveHttp(runtime, { port: config.port, hostname: config.host }, (info) => {
        const identityFile = writeServiceIdentity(config);
        logger.info({ url: `http://${config.host}:${info.port}`, publicUrl: config.publicUrl, database: runtime.ctx.database.kind, identityFile }, 'clearframe listening');
      });
      const http = server;
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
        exitIfStuck(signal);
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
      stopRunning = stop;
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
        boundHeapGrowth();
        process.exit(await auditVerifyBundle(values.bundle, values.key));
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
          boundHeapGrowth();
          const keyring = await loadKeyring(config.keysDir, config.keys);
          await auditExport(database, config, keyring, Number(values.from), values.to ? Number(values.to) : undefined, values.out).finally(() => keyring.close());
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
    case 'import': {
      // Its memory is to stay flat in the number of files: the same bound as the export's.
      boundHeapGrowth();
      process.exitCode = await importCommand(argv.slice(1), config, { fail, usage });
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
 * `audit export`: the bundle streamed to FILE (or stdout) as the entries are read, progress on stderr,
 * then one line naming the file, its entries and the checkpoint's size. The file is written under a
 * temporary name and renamed when complete, so an export cut short leaves no file that looks like a bundle.
 */
async function auditExport(database: Database, config: Config, keyring: Keyring, from: number, to: number | undefined, out: string | undefined): Promise<void> {
  const stream = await streamEvidence(database.db, config.auditOrigin, keyring.audit, from, to);
  const partial = out ? `${out}.partial-${process.pid}` : undefined;
  const sink = partial ? createWriteStream(partial, { flags: 'wx' }) : process.stdout;
  const progress = progressLine('exported');
  try {
    const written = await writeEvidence(stream, sink, progress);
    if (partial) {
      await new Promise<void>((resolve, reject) => (sink as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
      renameSync(partial, out!);
    }
    process.stderr.write(
      `wrote ${out ?? 'stdout'}: ${written.entries.toLocaleString('en-US')} entries (${written.from}..${written.to - 1}), checkpoint of ${written.treeSize.toLocaleString('en-US')} entries, ${(written.bytes / 1024 / 1024).toFixed(1)} MiB\n`,
    );
  } catch (e) {
    if (partial) {
      (sink as WriteStream).destroy();
      rmSync(partial, { force: true });
    }
    throw e;
  }
}

/**
 * The export and the bundle check hold a page of entries at a time, but V8 lets the old generation grow
 * to four times what is live before it collects (measured: 40 MB live, 190 MB heap, during an export).
 * Growing it by a quarter between collections keeps their peak near what they hold, for a few percent
 * more time in the collector (docs/benchmarks.md, audit-export). V8 reads this flag at each collection.
 */
function boundHeapGrowth(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  // The bound applies from the next full collection on; one now, so that start-up's garbage (loading
  // the modules) does not set the first limit. gc() is reachable only once --expose-gc is set.
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
const HEAP_GROWING_PERCENT = 25;

/** `audit verify --bundle FILE`: the bundle checked as it is read (src/audit/bundle-file.ts). */
async function auditVerifyBundle(file: string, key: string | undefined): Promise<number> {
  if (!existsSync(file)) fail(`--bundle: no file ${file}`, 1);
  const progress = progressLine('checked');
  let verdict: BundleVerdict;
  try {
    verdict = await verifyBundleFile(file, key, { onProgress: (n) => progress(n) });
  } catch (e) {
    if (e instanceof BundleSyntaxError) fail(`${file} is not an evidence bundle: ${e.message}`, 1);
    throw e;
  }
  process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
  if (verdict.keySource === 'bundle') process.stderr.write('note: checked with the key inside the bundle; pass --key with the published key to rule out a substituted one\n');
  process.stderr.write(
    `read ${file} as ${verdict.format ?? 'a bundle without a format'}: ${verdict.entriesChecked.toLocaleString('en-US')} entries, ${verdict.ok ? 'all proved' : `${verdict.failures.length} failure(s)`}\n`,
  );
  return verdict.ok ? 0 : 1;
}

/** Progress on stderr, at most once a second: "exported 200,000 / 1,000,000 entries". */
function progressLine(verb: string): (done: number, total?: number) => void {
  let last = performance.now();
  return (done, total) => {
    const t = performance.now();
    if (t - last < 1000) return;
    last = t;
    process.stderr.write(`${verb} ${done.toLocaleString('en-US')}${total !== undefined ? ` / ${total.toLocaleString('en-US')}` : ''} entries\n`);
  };
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
