import './v8-flags.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { type EvidenceBundle, verifyBundle } from './audit/bundle.ts';
import { exportEvidence } from './audit/export.ts';
import { verifyStoredLog } from './audit/verify-log.ts';
import { issueToken, ROLES, type Role } from './auth/tokens.ts';
import { sweepTaints } from './checkpoints/service.ts';
import { ConfigError, loadConfig } from './config/config.ts';
import { verifyOffline } from './outputs/verify-offline.ts';
import { createC2paWasmEngine } from './provenance/c2pa/c2pa-wasm.ts';
import { createLogger, openConfiguredDatabase, startRuntime } from './runtime.ts';
import { C2PA_FILES, initKeys, loadKeyring } from './signing/keyring.ts';

const USAGE = `clearframe <command>

  serve                                  run the service (PGlite in DATA_DIR unless DATABASE_URL is set)
  migrate                                apply database migrations and exit
  keys init                              create the local keys that are missing (never overwrites)
  token issue --role ROLE --sub NAME [--vendor ID] [--ttl 1h]
                                         print a bearer token from the local issuer key
  audit verify [--hash-here]             recompute the whole log from the database; names the first bad entry
                                         (--hash-here: leaf hashes here too, not by PostgreSQL beside the rows)
  audit verify --bundle FILE [--key VKEY]
                                         check an evidence bundle offline, without the server
  audit export --from N [--to M] [--out FILE]
                                         write an evidence bundle for entries N..M-1
  verify FILE [--server URL [--token T]] [--bundle FILE [--key VKEY]] [--type MIME]
                                         check a signed output: with a server, its full verdict
                                         (ledger match, standing, proof); without, the manifest
                                         against the local trust anchors and, given a bundle, the proofs

Configuration comes from the environment; see README.md.`;

function fail(message: string, code = 2): never {
  process.stderr.write(`clearframe: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }

  switch (command) {
    case 'serve': {
      const runtime = await startRuntime(config);
      const { logger } = runtime.ctx;
      const server = serve({ fetch: runtime.app.fetch, port: config.port, hostname: config.host }, (info) => {
        logger.info({ url: `http://${config.host}:${info.port}`, database: runtime.ctx.database.kind }, 'clearframe listening');
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
      const stop = () => {
        clearInterval(sweep);
        server.close(() => void runtime.close().then(() => process.exit(0)));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return;
    }
    case 'migrate': {
      const db = await openConfiguredDatabase(config);
      await db.migrate();
      await db.close();
      process.stdout.write(`migrations applied (${db.kind})\n`);
      return;
    }
    case 'keys': {
      if (sub !== 'init') fail(`unknown: keys ${sub ?? ''}\n\n${USAGE}`);
      const created = initKeys(config.keysDir, config.keys);
      process.stdout.write(created.length ? `created ${created.join(', ')} in ${config.keysDir}\n` : `all keys present in ${config.keysDir}\n`);
      return;
    }
    case 'token': {
      if (sub !== 'issue') fail(`unknown: token ${sub ?? ''}\n\n${USAGE}`);
      const { values } = parseArgs({
        args: rest,
        options: { role: { type: 'string' }, sub: { type: 'string' }, vendor: { type: 'string' }, ttl: { type: 'string', default: '1h' } },
      });
      if (!values.role || !ROLES.includes(values.role as Role)) fail(`--role must be one of ${ROLES.join(', ')}`);
      if (!values.sub) fail('--sub NAME is required');
      if (values.role === 'vendor' && !values.vendor) fail('a vendor token needs --vendor ID');
      if (config.auth.mode !== 'local') fail('tokens come from your identity provider when AUTH_JWKS_URL is set');
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
          ttl: values.ttl!,
        },
      );
      await keyring.close();
      process.stdout.write(`${token}\n`);
      return;
    }
    case 'audit': {
      const { values } = parseArgs({
        args: rest,
        options: {
          bundle: { type: 'string' },
          key: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          out: { type: 'string' },
          'hash-here': { type: 'boolean' },
        },
      });
      if (sub === 'verify' && values.bundle) {
        const bundle = JSON.parse(readFileSync(values.bundle, 'utf8')) as EvidenceBundle;
        const verdict = await verifyBundle(bundle, values.key);
        process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
        if (verdict.keySource === 'bundle') process.stderr.write('note: checked with the key inside the bundle; pass --key with the published key to rule out a substituted one\n');
        process.exit(verdict.ok ? 0 : 1);
      }
      const database = await openConfiguredDatabase(config);
      try {
        if (sub === 'verify') {
          const started = performance.now();
          const result = await verifyStoredLog(database, values['hash-here'] ? { leafHashes: 'here' } : {});
          const seconds = (performance.now() - started) / 1000;
          const summary = { ...result, rootHash: result.rootHash ? Buffer.from(result.rootHash).toString('base64') : null, seconds: Number(seconds.toFixed(3)) };
          process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          process.exitCode = result.ok ? 0 : 1;
        } else if (sub === 'export') {
          if (values.from === undefined || !/^\d+$/.test(values.from)) fail('--from N is required');
          if (values.to !== undefined && !/^\d+$/.test(values.to)) fail('--to must be a number');
          const keyring = await loadKeyring(config.keysDir, config.keys);
          const bundle = await exportEvidence(database.db, config.auditOrigin, keyring.audit, Number(values.from), values.to ? Number(values.to) : undefined).finally(() =>
            keyring.close(),
          );
          const text = `${JSON.stringify(bundle, null, 2)}\n`;
          if (values.out) writeFileSync(values.out, text);
          else process.stdout.write(text);
        } else fail(`unknown: audit ${sub ?? ''}\n\n${USAGE}`);
      } finally {
        await database.close();
      }
      return;
    }
    case 'verify': {
      const { values, positionals } = parseArgs({
        args: argv.slice(1),
        allowPositionals: true,
        options: { server: { type: 'string' }, token: { type: 'string' }, bundle: { type: 'string' }, key: { type: 'string' }, type: { type: 'string' } },
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
        const bundle = values.bundle ? (JSON.parse(readFileSync(values.bundle, 'utf8')) as EvidenceBundle) : undefined;
        result = await verifyOffline(createC2paWasmEngine({ trustAnchorsPem: anchors }), bytes, {
          ...(values.type ? { mimeType: values.type } : {}),
          ...(bundle ? { bundle } : {}),
          ...(values.key ? { verifierKey: values.key } : {}),
        });
      }
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      const evidence = (result as { evidence?: { ok: boolean } | null }).evidence;
      process.exitCode = (await import('./outputs/verify-exit.ts')).verifyExitCode({ ...result, evidence }); // one code per outcome: docs/outputs.md
      return;
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      fail(`unknown command ${command}\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  createLogger({ logLevel: 'error' }).error({ err: e }, 'clearframe failed');
  process.exit(1);
});
