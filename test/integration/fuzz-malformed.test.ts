/**
 * A seeded, bounded property test: malformed requests over every operation of the served OpenAPI
 * document (see test/support/malformed-requests.ts), sent in-process to the real app on a database with
 * real records in it. No answer is a 5xx, and every 4xx is problem+json whose status is the answer's.
 * 10,000 requests on PGlite, 2,000 on PostgreSQL; FUZZ_SEED and FUZZ_REQUESTS replay or widen a run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUnavailable, testDbKind } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { type MalformedRequest, malformedRequests, type OpenApiDocument } from '../support/malformed-requests.ts';
import { startTestService, type TestService } from '../support/service.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_203);
const COUNT = Number(process.env.FUZZ_REQUESTS ?? (testDbKind === 'pglite' ? 10_000 : 2_000));

describe.skipIf(databaseUnavailable())('malformed requests', () => {
  let svc: TestService;
  let doc: OpenApiDocument;
  let ids: Record<string, string[]>;
  let tokens: (string | undefined)[];

  beforeAll(async () => {
    // In-process requests are not rate limited; the limit is off here all the same, to say so.
    svc = await startTestService({ RATE_LIMIT_REQUESTS: '0' });
    const legal = await svc.token('legal');
    const vendor = await svc.token('vendor');
    const made = await activeCheckpoint(svc, legal, vendor, 2);
    ids = {
      assets: made.assets.map((a) => a.assetId),
      licenses: made.assets.map((a) => a.licenseId!),
      datasets: [made.dataset.id],
      clearances: [made.clearance.id],
      checkpoints: [made.checkpoint.id],
      outputs: ['out_doesnotexist0000'],
      'tuning-jobs': ['tun_doesnotexist0000'],
    };
    const admin = await svc.token('admin');
    tokens = [admin, admin, admin, legal, vendor, await svc.token('generator'), await svc.token('distributor'), undefined, 'not.a.token'];
    doc = (await (await svc.call('GET', '/openapi.json')).json()) as OpenApiDocument;
  });
  afterAll(() => svc?.close());

  it(`${COUNT} malformed requests (seed ${SEED}): no 5xx, every 4xx problem+json`, { timeout: 120_000 }, async () => {
    const next = malformedRequests(doc, SEED, { ids });
    const pickToken = (i: number) => tokens[i % tokens.length];
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const kinds = new Map<string, number>();
    const timing = new Map<string, [number, number]>();
    const started = performance.now();
    for (let i = 0; i < COUNT; i++) {
      const req: MalformedRequest = next();
      const token = pickToken(i);
      const t0 = performance.now();
      const res = await svc.runtime.app.request(req.path, {
        method: req.method,
        headers: { ...req.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: req.body,
      });
      const text = await res.text();
      const op = (timing.get(req.operation) ?? [0, 0]) as [number, number];
      op[0]++;
      op[1] += performance.now() - t0;
      timing.set(req.operation, op);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      kinds.set(req.kind, (kinds.get(req.kind) ?? 0) + 1);
      const what = `#${i} ${req.kind} ${req.method} ${req.path.slice(0, 160)} -> ${res.status} ${text.slice(0, 200)}`;
      if (res.status >= 500) failures.push(what);
      else if (res.status >= 400) {
        let status: unknown;
        try {
          status = (JSON.parse(text) as { status?: unknown }).status;
        } catch {}
        if (res.headers.get('content-type') !== 'application/problem+json' || status !== res.status) failures.push(`not problem+json: ${what}`);
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz ${testDbKind}: ${COUNT} requests in ${seconds} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; kinds ${JSON.stringify(Object.fromEntries(kinds))}`,
    );
    if (process.env.FUZZ_PROFILE)
      console.log(
        [...timing]
          .sort((a, b) => b[1][1] - a[1][1])
          .slice(0, 12)
          .map(([k, [n, ms]]) => `${k}: ${n} in ${ms.toFixed(0)} ms`)
          .join('\n'),
      );
    expect(failures.slice(0, 20)).toEqual([]);
    // The run reached past validation: some requests were answered 2xx, some 404 for a well-formed id.
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect(statuses.get(422)).toBeGreaterThan(COUNT / 10);
  });
});
