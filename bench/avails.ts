/**
 * Availability search benchmark: `npm run bench -- avails`.
 *
 * Issue goal: GET /v1/avails over a library of 100,000 assets answered in ≤ 2 s (p50), side by side with
 * clearing the same assets through the gate.
 *
 * Fixture: the gate section's library (bench/gate.ts populate: every asset with its own license row over ~50
 * repeating terms, amendments, approvals), BENCH_AVAILS_ASSETS assets (+1 unlicensed for training), and a
 * dataset of the first BENCH_AVAILS_ASSETS of them.
 *
 * Measured in this process, through runtime.app.request (routing, auth, validation, serialisation):
 *   - avails: the whole library in one page (JSON), the same as CSV, and `status=available` (the filtered scan);
 *   - gate, on the same assets: the clearance (POST /v1/datasets/{id}/clearances, recorded and signed) and
 *     the preview (POST /v1/gate/evaluate with the asset ids, no record).
 * Correctness: the assets avails answers available are exactly those the clearance allows.
 *
 * Knobs: BENCH_AVAILS_ASSETS (100000), BENCH_AVAILS_RUNS (5), BENCH_GATE_TERMS (50), BENCH_SEED, BENCH_AVAILS_TIMEOUT_S (420).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { issueToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { datasetMembers } from '../src/datasets/service.ts';
import { createLogger, type Runtime, startRuntime } from '../src/runtime.ts';
import { avoidJsToWasmInliningCrash, populate } from './gate.ts';
import { type BenchSection, createBenchDatabase, distribution, fmt, intFromEnv, now, Reporter } from './harness.ts';

const VENDOR = 'acme-vfx';
const BASE_MODEL = 'veo-3.0-generate-001';
const GOAL_S = 2;

export const availsSection: BenchSection = {
  name: 'avails',
  title: 'availability search over 100,000 assets vs clearing the same assets through the gate',
  timeoutS: intFromEnv('BENCH_AVAILS_TIMEOUT_S', 420),
  run: async () => {
    const restoreV8 = avoidJsToWasmInliningCrash();
    try {
      return await runAvails();
    } finally {
      restoreV8();
    }
  },
};

type Timing = { times: number[]; bytes: number; last: Response | undefined; text: string };

async function runAvails() {
  const size = intFromEnv('BENCH_AVAILS_ASSETS', 100_000);
  const runs = intFromEnv('BENCH_AVAILS_RUNS', 5);
  const terms = intFromEnv('BENCH_GATE_TERMS', 50);
  const seed = intFromEnv('BENCH_SEED', 20_251_125);
  const rep = new Reporter('avails', availsSection.title);
  Object.assign(rep.parameters, { assets: size, runs, licenseTerms: terms, seed, use: { purpose: 'fine-tune', vendor: VENDOR, baseModel: BASE_MODEL } });

  const bdb = await rep.phase('setup.database', () => createBenchDatabase());
  rep.env.postgres = bdb.serverVersion;
  const keysDir = mkdtempSync(path.join(tmpdir(), 'clearframe-bench-keys-'));
  let runtime: Runtime | undefined;
  try {
    const library = await rep.phase('setup.fixture', () => populate(rep, bdb, [size], terms, seed));
    const datasetId = library.datasets.get(size)!;
    const config = loadConfig({ DATABASE_URL: bdb.url, KEYS_DIR: keysDir, DATA_DIR: keysDir, LOG_LEVEL: 'silent', RATE_LIMIT_REQUESTS: '0' });
    runtime = await rep.phase('setup.runtime', () => startRuntime(config, { database: bdb.database, logger: createLogger({ logLevel: 'silent' }) }));
    const rt = runtime;
    const issuer = rt.ctx.keyring.tokenIssuer;
    const mint = (role: 'legal' | 'vendor') =>
      issueToken(
        { privateKey: issuer.privateKey, kid: issuer.signer.kid },
        { issuer: config.auth.issuer, audience: config.auth.audience, sub: `${role}@bench.example`, role, vendor: role === 'vendor' ? VENDOR : undefined, ttl: '1h' },
      );
    const [legal, vendor] = [await mint('legal'), await mint('vendor')];
    const assetIds = (await datasetMembers(rt.ctx.database.db, datasetId)).map((m) => m.assetId);

    const query = (extra: Record<string, string> = {}) =>
      `/v1/avails?${new URLSearchParams({ purpose: 'fine-tune', vendor: VENDOR, baseModel: BASE_MODEL, limit: '200000', ...extra })}`;
    const call = (method: string, url: string, token: string, init: { json?: unknown; accept?: string } = {}) =>
      rt.app.request(url, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.accept ? { accept: init.accept } : {}) },
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      });
    /** Each run end to end: the request, and reading the whole answer. */
    const measure = async (name: string, fn: () => Response | Promise<Response>): Promise<Timing> =>
      rep.phase(name, async () => {
        const times: number[] = [];
        let last: Response | undefined;
        let text = '';
        for (let i = 0; i < runs; i++) {
          const t = now();
          const res = await fn();
          text = await res.text();
          times.push(now() - t);
          if (res.status >= 300) throw new Error(`${name}: ${res.status} ${text.slice(0, 300)}`);
          last = res;
          await yieldToLoop();
        }
        return { times, bytes: Buffer.byteLength(text), last, text };
      });

    await rep.phase('warmup', async () => {
      for (let i = 0; i < 2; i++) {
        await (await call('GET', query(), legal)).text();
        await (await call('POST', `/v1/datasets/${datasetId}/clearances`, vendor, { json: { purpose: 'fine-tune', baseModel: BASE_MODEL } })).text();
      }
    });

    const json = await measure('avails.json', () => call('GET', query(), legal));
    const csv = await measure('avails.csv', () => call('GET', query(), legal, { accept: 'text/csv' }));
    const available = await measure('avails.available', () => call('GET', query({ status: 'available' }), legal));
    const clearance = await measure('gate.clearance', () =>
      call('POST', `/v1/datasets/${datasetId}/clearances`, vendor, { json: { purpose: 'fine-tune', baseModel: BASE_MODEL } }),
    );
    const preview = await measure('gate.evaluate', () =>
      call('POST', '/v1/gate/evaluate', legal, { json: { assetIds, purpose: 'fine-tune', baseModel: BASE_MODEL, vendor: VENDOR } }),
    );

    const page = JSON.parse(json.text) as { items: { assetId: string; status: string }[]; nextCursor: string | null };
    const cleared = JSON.parse(clearance.text) as { assets: { assetId: string; decision: string }[] };
    const inDataset = new Set(assetIds);
    const availableIds = page.items.filter((r) => r.status === 'available' && inDataset.has(r.assetId)).map((r) => r.assetId);
    const allowedIds = cleared.assets.filter((a) => a.decision === 'allow').map((a) => a.assetId);
    const same = page.nextCursor === null && availableIds.length === allowedIds.length && availableIds.sort().join() === allowedIds.sort().join();
    rep.details.answers = {
      rows: page.items.length,
      available: availableIds.length,
      clearanceAllowed: allowedIds.length,
      jsonBytes: json.bytes,
      csvBytes: csv.bytes,
      availableBytes: available.bytes,
    };

    const p50 = (t: Timing) => distribution(t.times).p50;
    for (const [id, label, t] of [
      ['avails.json.p50', `GET /v1/avails, ${fmt(page.items.length)} assets, JSON, p50`, json],
      ['avails.csv.p50', `GET /v1/avails, ${fmt(page.items.length)} assets, CSV, p50`, csv],
      ['avails.available.p50', `GET /v1/avails?status=available (${fmt(availableIds.length)} of ${fmt(page.items.length)}), p50`, available],
    ] as const) {
      rep.details[id] = distribution(t.times);
      rep.figure({
        id,
        label,
        value: Math.round(p50(t)),
        unit: 'ms',
        baseline: { label: `clearance of the same ${fmt(size)} assets (POST /v1/datasets/{id}/clearances), p50`, value: Math.round(p50(clearance)), unit: 'ms' },
        ratio: p50(t) / p50(clearance),
        ratioMeaning: 'avails time / clearance time',
        ...(size === 100_000 && id === 'avails.json.p50' ? { goal: `≤ ${GOAL_S} s at 100,000 assets`, met: p50(t) <= GOAL_S * 1000 } : {}),
        note: `${fmt(t.bytes)} bytes`,
      });
    }
    rep.details['gate.clearance'] = distribution(clearance.times);
    rep.details['gate.evaluate'] = distribution(preview.times);
    rep.figure({
      id: 'gate.evaluate.p50',
      label: `POST /v1/gate/evaluate, ${fmt(size)} asset ids, p50`,
      value: Math.round(p50(preview)),
      unit: 'ms',
      note: `${fmt(preview.bytes)} bytes`,
    });
    rep.figure({
      id: 'correctness.avails-equals-clearance',
      label: 'the assets avails answers available are those the clearance allows',
      value: same ? 1 : 0,
      unit: 'bool',
      goal: 'equal',
      met: same,
    });
  } finally {
    await runtime?.close().catch(() => {});
    await bdb.drop();
    rmSync(keysDir, { recursive: true, force: true });
  }
  return rep.finish();
}
