/**
 * Audit-log benchmark: `npm run bench -- audit`.
 *
 * 1. Audit-logged writes through Ledger.change vs raw autocommit INSERTs of the same row, 1 and 32 writers.
 * 2. Inclusion / consistency proofs at 1,000,000 entries vs a single primary-key SELECT of one node row.
 * 3. verifyStoredLog over the 1,000,000 entries vs streaming the same pages (no hashing) and vs hashing
 *    the same leaves in memory (no database), plus a per-stage profile of one verification pass.
 * 4. Peak RSS / heap used per phase.
 *
 * Every figure with a goal is measured side by side with its baseline in this process and run.
 * Knobs for quick local runs (defaults are the documented configuration):
 *   BENCH_AUDIT_ENTRIES (1000000), BENCH_AUDIT_WRITES (3000), BENCH_AUDIT_WARMUP (writes per way before
 *   timing; as many as BENCH_AUDIT_WRITES), BENCH_AUDIT_PROOFS (1000),
 *   BENCH_AUDIT_PROFILE_ENTRIES (100000), BENCH_SEED; BENCH_KEEP_DB=1 keeps the database for inspection.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { and, asc, eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { type AuditEvent, eventLeaf, storedEventLeaf } from '../src/audit/event.ts';
import { Ledger } from '../src/audit/ledger.ts';
import { consistencyProof, inclusionProof, readFrontier, rootHash, type StoredNode, treeSize } from '../src/audit/log-store.ts';
import { HASH_SIZE, hashRange, leafHash, leafHashInto, MerkleTreeBuilder, parentLevel, rootPlan, verifyConsistency, verifyInclusion } from '../src/audit/merkle.ts';
import { auditEvents, auditNodes } from '../src/audit/tables.ts';
import { verifyStoredLog } from '../src/audit/verify-log.ts';
import { copyBinaryBatches } from '../src/db/copy-binary.ts';
import type { Database, Db } from '../src/db/database.ts';
import { type BenchDatabase, type BenchSection, createBenchDatabase, type Distribution, distribution, FixtureGen, fmt, intFromEnv, now, Reporter, rng } from './harness.ts';

const ACTOR = { sub: 'bench@clearframe.dev', role: 'legal' };
const WRITER_COUNTS = [1, 32] as const;
/** verifyStoredLog's default page size; the streaming baseline pages the same way. */
const VERIFY_PAGE_SIZE = 20_000;

export const auditSection: BenchSection = {
  name: 'audit',
  title: 'audit log: logged writes, proofs and full verification at 1,000,000 entries',
  timeoutS: intFromEnv('BENCH_AUDIT_TIMEOUT_S', 600),
  run: runAudit,
};

async function runAudit() {
  const entries = intFromEnv('BENCH_AUDIT_ENTRIES', 1_000_000);
  const writes = intFromEnv('BENCH_AUDIT_WRITES', 3_000);
  const proofs = intFromEnv('BENCH_AUDIT_PROOFS', 1_000);
  const seed = intFromEnv('BENCH_SEED', 20_251_125);
  const profileEntries = intFromEnv('BENCH_AUDIT_PROFILE_ENTRIES', 100_000);
  const rep = new Reporter('audit', auditSection.title);
  Object.assign(rep.parameters, {
    entries,
    writesPerConfiguration: writes,
    writerCounts: WRITER_COUNTS,
    proofsPerKind: proofs,
    seed,
    verifyPageSize: VERIFY_PAGE_SIZE,
    profileEntries,
  });

  // One pool for both sides of the write comparison, large enough that 32 raw writers really are 32
  // concurrent autocommit sessions. (The Ledger itself runs one transaction at a time per process.)
  const bdb = await rep.phase('setup', () => createBenchDatabase({ maxConnections: Math.max(...WRITER_COUNTS) }));
  rep.env.postgres = bdb.serverVersion;
  rep.details.database = bdb.name;
  try {
    await benchWrites(rep, bdb, writes, seed);
    const log = await rep.phase('populate', () => populate(rep, bdb, entries, proofs, seed));
    await benchProofs(rep, bdb.database.db, log, proofs, seed);
    await benchVerification(rep, bdb.database, log);
  } finally {
    await bdb.drop();
  }
  return rep.finish();
}

// ---------------------------------------------------------------------------
// Realistic rows and events (deterministic from the seed)

const TITLES = [
  'Stairwell, night, key frame 3',
  'Rooftop garden — dawn pass, v2',
  'Treppenhaus, Nacht, Schlüsselbild 7',
  'Neighbour\'s door, "the knock" beat board',
  '階段の夜景 コンセプト 12',
  'Laundry room, moodboard B',
];
const MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/tiff', 'image/webp'];
const CREATORS = ['R. Ortiz', 'M. Kowalczyk', 'A. Nakamura', 'J. Adeyemi'];
const PRODUCTIONS = ['dear-upstairs-neighbors', 'night-shift-pilot', 'the-long-stair'];
class Gen extends FixtureGen {
  /** The content of an asset.registered event (the draft src/assets/service.ts records). */
  asset() {
    return {
      id: this.id('ast'),
      sha256: this.sha256(),
      title: this.pick(TITLES),
      mediaType: this.pick(MEDIA_TYPES),
      creator: this.pick(CREATORS),
      production: this.pick(PRODUCTIONS),
      sourceUri: this.r() < 0.5 ? `gs://clearframe-art/${this.pick(PRODUCTIONS)}/${this.id('f')}.png` : null,
      rightsHolder: this.r() < 0.8 ? 'Ortiz Studio' : null,
      byteSize: Math.floor(this.r() * 40_000_000) + 50_000,
    };
  }
  /** The content of a license.granted/amended event: the stored terms plus the request (src/licenses/service.ts). */
  license(assetId: string, version: number) {
    const input = {
      licensor: 'Ortiz Studio',
      licensee: 'Upstairs Films',
      vendors: this.r() < 0.5 ? ['acme-vfx'] : ['acme-vfx', 'northlight-fx'],
      grants: { training: this.pick(['allowed', 'requiresApproval', 'notAllowed']), derivatives: 'requiresApproval', commercial: 'notAllowed' },
      territories: this.r() < 0.5 ? ['US', 'CA'] : ['US', 'CA', 'GB', 'DE', 'FR', 'JP'],
      media: ['theatrical', 'streaming'],
      term: { start: '2026-01-01T00:00:00Z', end: '2028-12-31T23:59:59Z' },
      exclusivity: this.r() < 0.2,
      attribution: 'Concept art by R. Ortiz',
      contractRef: { id: `C-${Math.floor(this.r() * 1000)}`, sha256: this.sha256() },
    };
    const id = this.id('lic');
    return {
      id,
      assetId,
      version,
      supersedesId: version > 1 ? this.id('lic') : null,
      licensor: input.licensor,
      licensee: input.licensee,
      vendors: input.vendors,
      grantTraining: input.grants.training,
      grantDerivatives: input.grants.derivatives,
      grantCommercial: input.grants.commercial,
      territories: input.territories,
      media: input.media,
      baseModelFamilies: null,
      termStart: '2026-01-01T00:00:00.000Z',
      termEnd: '2028-12-31T23:59:59.000Z',
      exclusivity: input.exclusivity,
      attribution: input.attribution,
      contractRefId: input.contractRef.id,
      contractRefSha256: input.contractRef.sha256,
      terms: input,
    };
  }
  revocation(licenseId: string, assetId: string) {
    return { revocationId: this.id('rev'), licenseId, assetId, reason: 'Contract terminated by the licensor' };
  }

  /**
   * The i-th event of the bulk log. Mix, per 10 entries: 5 asset registrations, 2 grants, 2 amendments,
   * 1 revocation, which is roughly an asset's life cycle in the ledger.
   */
  draft(i: number): { action: string; subjectId: string; content: unknown } {
    const k = i % 10;
    if (k < 5) {
      const content = this.asset();
      return { action: 'asset.registered', subjectId: content.id, content };
    }
    if (k < 9) {
      const amended = k >= 7;
      const content = this.license(this.id('ast'), amended ? 2 : 1);
      return { action: amended ? 'license.amended' : 'license.granted', subjectId: content.id, content };
    }
    const content = this.revocation(this.id('lic'), this.id('ast'));
    return { action: 'license.revoked', subjectId: content.licenseId, content };
  }
}

// ---------------------------------------------------------------------------
// 1. Logged writes vs raw INSERTs

async function benchWrites(rep: Reporter, bdb: BenchDatabase, perConfig: number, seed: number): Promise<void> {
  const db = bdb.database.db;
  for (const table of ['bench_rows_raw', 'bench_rows_logged', 'bench_rows_prepared']) {
    await bdb.raw.unsafe(`create table ${table} (id text primary key, payload jsonb not null)`);
  }
  // The Ledger gets the application's database with one thing added: a count of the transactions it
  // opens, so the report can say how many changes each batch transaction carried.
  let transactions = 0;
  const countingDb = new Proxy(db, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (prop === 'transaction') {
        return (...args: Parameters<Db['transaction']>) => {
          transactions += 1;
          return target.transaction(...args);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const ledger = new Ledger({ ...bdb.database, db: countingDb });
  // Context only: postgres.js on its own, with its default named prepared statements (drizzle sends
  // unnamed ones, which postgres.js describes first: one more round trip per statement with parameters).
  const direct = postgres(bdb.url, { max: Math.max(...WRITER_COUNTS), onnotice: () => {} });
  const gen = new Gen(rng(seed));

  // Payloads are made up front so every side writes exactly the same rows and pays nothing for making them.
  const payloads = Array.from({ length: 4096 }, () => gen.asset());
  const jsons = payloads.map((p) => JSON.stringify(p));
  const avgBytes = jsons.reduce((a, j) => a + Buffer.byteLength(j), 0) / jsons.length;
  rep.details.writes = {
    payload: 'an asset.registered draft (the row src/assets/service.ts writes); the logged side also records it as the event content',
    payloadJsonBytesAvg: Math.round(avgBytes),
    poolConnections: Math.max(...WRITER_COUNTS),
  };
  let serial = 0;

  type Way = 'raw' | 'logged' | 'prepared';
  const ways: Record<Way, () => Promise<unknown>> = {
    // The baseline: the same driver stack as the Ledger (drizzle over postgres.js), one autocommit INSERT.
    raw: () => {
      const n = serial++;
      return db.execute(sql`insert into bench_rows_raw (id, payload) values (${`raw_${n}`}, ${jsons[n % jsons.length]!}::jsonb)`);
    },
    logged: () => {
      const n = serial++;
      const id = `logged_${n}`;
      // Keyed by the row it writes, as registerAsset keys a registration by its content: writes of
      // different rows run side by side in a batch (Ledger ChangeOptions.touches).
      return ledger.change(
        ACTOR,
        async ({ tx, record }) => {
          record({ action: 'bench.row_written', subjectId: id, content: payloads[n % payloads.length] });
          await tx.execute(sql`insert into bench_rows_logged (id, payload) values (${id}, ${jsons[n % jsons.length]!}::jsonb)`);
        },
        { touches: [`bench-row:${id}`] },
      );
    },
    prepared: () => {
      const n = serial++;
      return direct`insert into bench_rows_prepared (id, payload) values (${`prepared_${n}`}, ${jsons[n % jsons.length]!}::jsonb)`;
    },
  };

  /** Runs `count` writes with `writers` concurrent loops. */
  const drive = async (writers: number, count: number, write: () => Promise<unknown>) => {
    let next = 0;
    const cpu = process.cpuUsage();
    const start = now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < count) {
          next += 1;
          await write();
        }
      }),
    );
    const used = process.cpuUsage(cpu);
    return { count, ms: now() - start, cpuUs: used.user + used.system };
  };

  const ROUNDS = 3;
  const perRound = Math.max(1, Math.floor(perConfig / ROUNDS));
  // Long enough for the JIT to settle on every side: with 300 writes, three back-to-back runs of 3,000
  // logged writes went 7,700 → 9,900 → 11,300 writes/s (the Ledger has more code to warm than one INSERT).
  const warmup = intFromEnv('BENCH_AUDIT_WARMUP', Math.max(50, perConfig));
  const perWriterDetails: Record<string, unknown> = {};
  try {
    for (const writers of WRITER_COUNTS) {
      await rep.phase(`writes.${writers}-writer${writers > 1 ? 's' : ''}`, async () => {
        for (const way of Object.keys(ways) as Way[]) await drive(writers, warmup, ways[way]);
        // Alternate the ways round by round so drift (WAL growth, checkpoints, other load) hits all alike.
        const totals = Object.fromEntries((Object.keys(ways) as Way[]).map((w) => [w, { count: 0, ms: 0, cpuUs: 0 }])) as Record<Way, { count: number; ms: number; cpuUs: number }>;
        const transactionsBefore = transactions;
        const rounds: Record<string, number>[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const perWay: Record<string, number> = {};
          for (const way of Object.keys(ways) as Way[]) {
            const r = await drive(writers, perRound, ways[way]);
            totals[way].count += r.count;
            totals[way].ms += r.ms;
            totals[way].cpuUs += r.cpuUs;
            perWay[way] = Math.round(r.count / (r.ms / 1000));
          }
          rounds.push(perWay);
        }
        const rate = (w: Way) => totals[w].count / (totals[w].ms / 1000);
        const batches = transactions - transactionsBefore;
        perWriterDetails[writers] = {
          writesPerSecondByRound: rounds,
          writesPerWay: totals.raw.count,
          ledgerTransactions: batches,
          changesPerLedgerTransaction: Math.round((totals.logged.count / batches) * 10) / 10,
          nodeCpuMicrosecondsPerWrite: Object.fromEntries((Object.keys(ways) as Way[]).map((w) => [w, Math.round(totals[w].cpuUs / totals[w].count)])),
        };
        rep.log(`  ${writers} writer(s): ${batches} Ledger transactions for ${totals.logged.count} logged writes (${(totals.logged.count / batches).toFixed(1)} per transaction)`);
        const plural = writers > 1 ? 's' : '';
        const ratio = rate('logged') / rate('raw');
        rep.figure({
          id: `writes.w${writers}`,
          label: `logged writes/s, ${writers} writer${plural}`,
          value: rate('logged'),
          unit: 'writes/s',
          baseline: { label: `raw autocommit INSERT (same drizzle/postgres.js stack), ${writers} writer${plural}`, value: rate('raw'), unit: 'writes/s' },
          ratio,
          ratioMeaning: 'logged / raw',
          ...(writers === 32 ? { goal: '≥ 0.5 × raw', met: ratio >= 0.5 } : {}),
        });
        rep.figure({
          id: `writes.w${writers}.prepared`,
          label: `logged writes/s, ${writers} writer${plural}, vs postgres.js prepared INSERT`,
          value: rate('logged'),
          unit: 'writes/s',
          baseline: { label: `autocommit INSERT via postgres.js prepared statements, ${writers} writer${plural}`, value: rate('prepared'), unit: 'writes/s' },
          ratio: rate('logged') / rate('prepared'),
          ratioMeaning: 'logged / prepared raw (context, no goal)',
        });
      });
    }
  } finally {
    await direct.end({ timeout: 5 });
  }
  (rep.details.writes as Record<string, unknown>).byWriters = perWriterDetails;
  const [check] = await bdb.raw<{ n: number; logged: number }[]>`
    select (select count(*)::int from bench_rows_logged) as logged, (select count(*)::int from audit_events) as n`;
  rep.figure({
    id: 'correctness.writes',
    label: 'every logged row has its audit event',
    value: check!.n,
    unit: 'events',
    goal: `= ${check!.logged} logged rows`,
    met: check!.n === check!.logged,
  });
}

// ---------------------------------------------------------------------------
// 2a. Populating the log to N entries fast (COPY), with the real event and leaf code, and the tree
//     nodes made the way Ledger.change makes them (MerkleTreeBuilder.resume from the stored frontier)

type PopulatedLog = {
  size: number;
  /** All leaf hashes, 32 bytes each, computed from the leaves as they were written. */
  leafHashes: Buffer;
  /** Roots computed without the stored tree (a fresh MerkleTreeBuilder over all leaf hashes from entry 0) at the consistency sample sizes and at `size`. */
  roots: Map<number, Uint8Array>;
  /** Sizes the consistency proofs go from (chosen before the log was built). */
  consistencyFrom: number[];
  /** Every leaf, packed, for the hash-only baseline. */
  leaves: { buf: Buffer; offsets: Uint32Array }[];
};

const copyBytea = (b: Uint8Array) => `\\\\x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;

async function write(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

async function populate(rep: Reporter, bdb: BenchDatabase, target: number, proofs: number, seed: number): Promise<PopulatedLog> {
  const db = bdb.database.db;
  const r = rng(seed ^ 0x5eed);
  const consistencyFrom = Array.from({ length: proofs + 50 }, () => 1 + Math.floor(r() * (target - 1)));
  const wanted = [...new Set([...consistencyFrom, target])].sort((a, b) => a - b);
  const roots = new Map<number, Uint8Array>();
  const builder = new MerkleTreeBuilder();
  let nextWanted = 0;
  const leafHashes = Buffer.alloc(32 * target);
  const leaves: PopulatedLog['leaves'] = [];
  const pushLeaf = (index: number, hash: Uint8Array) => {
    leafHashes.set(hash, 32 * index);
    builder.push(hash);
    while (nextWanted < wanted.length && wanted[nextWanted] === builder.size) {
      roots.set(builder.size, builder.root());
      nextWanted += 1;
    }
  };
  const pack = (ls: Uint8Array[]) => {
    const offsets = new Uint32Array(ls.length + 1);
    for (let i = 0; i < ls.length; i++) offsets[i + 1] = offsets[i]! + ls[i]!.length;
    const buf = Buffer.allocUnsafe(offsets[ls.length]!);
    for (let i = 0; i < ls.length; i++) buf.set(ls[i]!, offsets[i]!);
    leaves.push({ buf, offsets });
  };

  // The entries the write benchmark appended through the Ledger come first; the bulk continues that log.
  const start = await treeSize(db);
  if (start > target) throw new Error(`the log already has ${start} entries, more than the target ${target}`);
  const existing = await db.select({ index: auditEvents.index, leaf: auditEvents.leaf }).from(auditEvents).orderBy(asc(auditEvents.index));
  existing.forEach((e, i) => {
    if (e.index !== i) throw new Error(`log written by the Ledger is not dense at ${i}`);
    pushLeaf(i, leafHash(e.leaf));
  });
  pack(existing.map((e) => e.leaf));
  // Exactly how Ledger.change appends: resume from the stored right edge, collect every completed node.
  let created: StoredNode[] = [];
  const appender = MerkleTreeBuilder.resume(start, await readFrontier(db, start), {
    onNode: (id, hash) => created.push({ ...id, hash }),
  });

  // The fixture is loaded past the append path (migrations/0013 refuses any other INSERT), then it is back.
  await bdb.raw.unsafe('alter table audit_events disable trigger audit_events_append_path');
  const eventsCopy = await bdb.raw`copy audit_events (idx, leaf) from stdin`.writable();
  const nodesCopy = await bdb.raw`copy audit_nodes (level, idx, hash) from stdin`.writable();
  const gen = new Gen(r);
  const actors = [ACTOR, { sub: 'lee@studio.example', role: 'legal' }, { sub: 'ops@studio.example', role: 'admin' }];
  const t0 = Date.now();
  const CHUNK = 10_000;
  let leafBytes = 0;
  let nodesWritten = 0;
  const started = now();
  for (let size = start; size < target; ) {
    const n = Math.min(CHUNK, target - size);
    const eventLines: string[] = [];
    const chunkLeaves: Uint8Array[] = [];
    created = [];
    for (let i = 0; i < n; i++) {
      const index = size + i;
      const draft = gen.draft(index);
      const actor = actors[index % actors.length]!;
      // Exactly the event Ledger.change builds (src/audit/ledger.ts), and its leaf.
      const event: AuditEvent = {
        index,
        time: new Date(t0 + index * 7).toISOString(),
        actor: { sub: actor.sub, role: actor.role },
        action: draft.action,
        subjectId: draft.subjectId,
        content: draft.content,
      };
      // The content made here is plain JSON already, so storedEventLeaf (what eventLeaf calls after its
      // JSON round trip) gives the same bytes faster; every 1000th entry checks that against eventLeaf.
      const leaf = storedEventLeaf(event);
      if (index % 1000 === 0 && Buffer.compare(leaf, eventLeaf(event)) !== 0) throw new Error(`entry ${index}: leaf differs from eventLeaf`);
      const hash = leafHash(leaf);
      chunkLeaves.push(leaf);
      appender.push(hash);
      pushLeaf(index, hash);
      leafBytes += leaf.length;
      eventLines.push(`${index}\t${copyBytea(leaf)}\n`);
    }
    const nodeLines = created.map((node) => `${node.level}\t${node.index}\t${copyBytea(node.hash)}\n`);
    nodesWritten += created.length;
    pack(chunkLeaves);
    await Promise.all([write(eventsCopy, eventLines.join('')), write(nodesCopy, nodeLines.join(''))]);
    size += n;
    if ((size - start) % 200_000 < CHUNK) rep.log(`  populated ${fmt(size)} / ${fmt(target)} entries`);
    await yieldToLoop();
  }
  eventsCopy.end();
  nodesCopy.end();
  await Promise.all([finished(eventsCopy), finished(nodesCopy)]);
  await bdb.raw.unsafe('alter table audit_events enable trigger audit_events_append_path');
  const loadMs = now() - started;
  // A long-lived log has been vacuumed (hint bits set, statistics current); autovacuum is off on this server.
  const vacuum = now();
  await bdb.raw.unsafe('vacuum (analyze) audit_events');
  await bdb.raw.unsafe('vacuum (analyze) audit_nodes');
  const vacuumMs = now() - vacuum;

  const [sizes] = await bdb.raw<{ events: string; nodes: string; n: string }[]>`
    select pg_size_pretty(pg_total_relation_size('audit_events')) as events,
           pg_size_pretty(pg_total_relation_size('audit_nodes')) as nodes,
           (select count(*) from audit_nodes)::text as n`;
  rep.details.populate = {
    ledgerEntries: start,
    bulkEntries: target - start,
    bulkLoadSeconds: Math.round(loadMs / 100) / 10,
    bulkEntriesPerSecond: Math.round((target - start) / (loadMs / 1000)),
    vacuumAnalyzeSeconds: Math.round(vacuumMs / 100) / 10,
    averageLeafBytes: Math.round(leafBytes / Math.max(1, target - start)),
    nodeRows: Number(sizes!.n),
    bulkNodeRows: nodesWritten,
    auditEventsSize: sizes!.events,
    auditNodesSize: sizes!.nodes,
    eventMix: 'per 10 entries: 5 asset.registered, 2 license.granted, 2 license.amended, 1 license.revoked',
  };
  rep.log(
    `  loaded ${fmt(target - start)} entries in ${(loadMs / 1000).toFixed(1)} s, vacuum analyze ${(vacuumMs / 1000).toFixed(1)} s; audit_events ${sizes!.events}, audit_nodes ${sizes!.nodes}`,
  );
  return { size: target, leafHashes, roots, consistencyFrom, leaves };
}

// ---------------------------------------------------------------------------
// 2b. Proofs at N entries vs one primary-key SELECT

async function benchProofs(rep: Reporter, db: Db, log: PopulatedLog, count: number, seed: number): Promise<void> {
  const N = log.size;
  const r = rng(seed ^ 0x9f00f);
  const leafHashAt = (i: number) => log.leafHashes.subarray(32 * i, 32 * i + 32);
  const rootN = log.roots.get(N)!;

  await rep.phase('proofs', async () => {
    const storedRoot = await rootHash(db, N);
    rep.figure({
      id: 'correctness.root',
      label: `stored tree's root at ${fmt(N)} = independently computed root`,
      value: Buffer.compare(storedRoot, rootN) === 0 ? 1 : 0,
      unit: '',
      goal: 'equal',
      met: Buffer.compare(storedRoot, rootN) === 0,
    });

    const baselineSelect = (i: number) =>
      db
        .select()
        .from(auditNodes)
        .where(and(eq(auditNodes.level, 0), eq(auditNodes.index, i)));
    const warm = 100;
    for (let k = 0; k < warm; k++) {
      await baselineSelect(Math.floor(r() * N));
      await inclusionProof(db, Math.floor(r() * N), N);
      await consistencyProof(db, 1 + Math.floor(r() * (N - 1)), N);
    }
    const times = { select: [] as number[], inclusion: [] as number[], consistency: [] as number[] };
    const inclusion: { index: number; proof: Uint8Array[] }[] = [];
    const consistency: { from: number; proof: Uint8Array[] }[] = [];
    for (let k = 0; k < count; k++) {
      const index = Math.floor(r() * N);
      const from = log.consistencyFrom[k]!;
      let t = now();
      const rows = await baselineSelect(Math.floor(r() * N));
      times.select.push(now() - t);
      if (rows.length !== 1) throw new Error('baseline select found no node');
      t = now();
      const ip = await inclusionProof(db, index, N);
      times.inclusion.push(now() - t);
      t = now();
      const cp = await consistencyProof(db, from, N);
      times.consistency.push(now() - t);
      inclusion.push({ index, proof: ip });
      consistency.push({ from, proof: cp });
    }
    const d = { select: distribution(times.select), inclusion: distribution(times.inclusion), consistency: distribution(times.consistency) };
    rep.details.proofs = {
      treeSize: N,
      count,
      warmup: warm,
      msSelectBaseline: round(d.select),
      msInclusion: round(d.inclusion),
      msConsistency: round(d.consistency),
      proofHashesAvg: {
        inclusion: inclusion.reduce((a, p) => a + p.proof.length, 0) / inclusion.length,
        consistency: consistency.reduce((a, p) => a + p.proof.length, 0) / consistency.length,
      },
    };
    for (const kind of ['inclusion', 'consistency'] as const) {
      rep.figure({
        id: `proofs.${kind}.p95`,
        label: `${kind} proof at ${fmt(N)}, p95 (p50 ${d[kind].p50.toFixed(2)}, max ${d[kind].max.toFixed(2)})`,
        value: d[kind].p95,
        unit: 'ms',
        baseline: { label: 'one primary-key SELECT of a node row, p95', value: d.select.p95, unit: 'ms' },
        ratio: d[kind].p50 / d.select.p50,
        ratioMeaning: 'p50 proof / p50 SELECT',
        goal: '≤ 5 ms',
        met: d[kind].p95 <= 5,
      });
    }

    // Every timed proof is checked against roots computed without the stored tree.
    let okInclusion = 0;
    for (const { index, proof } of inclusion) if (verifyInclusion(leafHashAt(index), index, N, proof, rootN)) okInclusion += 1;
    let okConsistency = 0;
    for (const { from, proof } of consistency) if (verifyConsistency(from, N, proof, log.roots.get(from)!, rootN)) okConsistency += 1;
    // And a tampered proof must fail.
    let rejected = 0;
    for (const { index, proof } of inclusion.slice(0, 20)) {
      if (proof.length === 0) continue;
      const bad = proof.map((h) => new Uint8Array(h));
      bad[Math.floor(r() * bad.length)]![0]! ^= 1;
      if (!verifyInclusion(leafHashAt(index), index, N, bad, rootN)) rejected += 1;
    }
    const tampered = Math.min(20, inclusion.filter((p) => p.proof.length > 0).length);
    rep.figure({
      id: 'correctness.proofs',
      label: 'timed proofs that verify (verifyInclusion / verifyConsistency)',
      value: okInclusion + okConsistency,
      unit: 'proofs',
      goal: `= ${inclusion.length + consistency.length}, and ${tampered} tampered rejected`,
      met: okInclusion === inclusion.length && okConsistency === consistency.length && rejected === tampered,
      note: `${okInclusion}/${inclusion.length} inclusion, ${okConsistency}/${consistency.length} consistency, ${rejected}/${tampered} tampered rejected`,
    });
  });
}

const round = (d: Distribution) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, k === 'count' ? v : Math.round(v * 1000) / 1000]));

// ---------------------------------------------------------------------------
// 3. Full verification vs its parts

async function benchVerification(rep: Reporter, database: Database, log: PopulatedLog): Promise<void> {
  const N = log.size;
  const rate = (ms: number, n = N) => n / (ms / 1000);
  const cpuPerEntry = (r: Timed<unknown>, n = N) => Math.round((r.cpuUs / n) * 10) / 10;
  if (!database.copyOut) throw new Error('the verification benchmark runs on PostgreSQL');
  const copyOut = database.copyOut;

  // Baseline A: what verifyStoredLog reads, the way it reads it (the entries' COPY and the nodes' COPY at
  // once), parsed into batches, and nothing else.
  const copyRows = async (statement: string, fields: number) => {
    let rows = 0;
    for await (const batch of copyBinaryBatches(await copyOut(statement), fields)) rows += batch.rows;
    return rows;
  };
  // The entries as verifyStoredLog reads them by default: each leaf hashed by PostgreSQL beside the row, in
  // the table's own order.
  const streamEntries = () => copyRows("copy (select idx, pg_catalog.sha256('\\x00'::bytea || leaf) from audit_events) to stdout (format binary)", 2);
  const streamNodes = () => copyRows('copy audit_nodes (level, idx, hash) to stdout (format binary)', 3);
  const stream = async () => {
    let entriesMs = 0;
    let nodesMs = 0;
    const t = now();
    const both = await measure(() => Promise.all([streamEntries().then((n) => ((entriesMs = now() - t), n)), streamNodes().then((n) => ((nodesMs = now() - t), n))]));
    const [entries, nodes] = both.value;
    if (entries !== N) throw new Error(`streamed ${entries} entries, expected ${N}`);
    return { value: entries, ms: both.ms, cpuUs: both.cpuUs, entriesMs, nodesMs, nodes };
  };
  // The first streaming pass also warms the caches for everything after it; a second one follows the
  // verification, and the baseline is the faster of the two.
  const stream1 = await rep.phase('verify.stream-baseline', stream);
  const verify = await rep.phase('verify.verifyStoredLog', () => measure(() => verifyStoredLog(database)));
  const verifyHere = await rep.phase('verify.verifyStoredLog-hash-here', () => measure(() => verifyStoredLog(database, { leafHashes: 'here' })));
  const verify2 = await rep.phase('verify.verifyStoredLog-2', () => measure(() => verifyStoredLog(database)));
  const stream2 = await rep.phase('verify.stream-baseline-2', stream);
  const streamBest = stream1.ms <= stream2.ms ? stream1 : stream2;

  const result = verify.value;
  const rootOk = result.rootHash !== null && Buffer.compare(result.rootHash, log.roots.get(N)!) === 0;
  rep.figure({
    id: 'correctness.verify',
    label: 'verifyStoredLog finds the log intact, with the independently computed root',
    value: result.entries,
    unit: 'entries',
    goal: `ok, ${fmt(N)} entries, same root`,
    met: result.ok && result.entries === N && rootOk,
    ...(result.problem ? { note: JSON.stringify(result.problem) } : {}),
  });

  // Baseline B: the hashing alone, over the same leaves held in memory (no database): every leaf hash,
  // then every level above, with the same functions verifyStoredLog uses.
  const hashOnly = await rep.phase('verify.hash-baseline', () =>
    measure(async () => {
      let level: Buffer = Buffer.allocUnsafe(N * HASH_SIZE);
      let scratch: Buffer = Buffer.allocUnsafe(4096);
      let at = 0;
      for (const { buf, offsets } of log.leaves) {
        for (let i = 0; i + 1 < offsets.length; i++, at += HASH_SIZE) scratch = leafHashInto(buf, offsets[i]!, offsets[i + 1]!, level, at, scratch);
        await yieldToLoop();
      }
      const levels = [level];
      while (level.length > HASH_SIZE) levels.push((level = parentLevel(level)));
      const root = hashRange(rootPlan(N).map((id) => new Uint8Array(levels[id.level]!.subarray(id.index * HASH_SIZE, (id.index + 1) * HASH_SIZE))));
      if (Buffer.compare(root, log.roots.get(N)!) !== 0) throw new Error('hash baseline: wrong root');
    }),
  );

  const verifyRate = rate(Math.min(verify.ms, verify2.ms));
  const hereOk = verifyHere.value.ok && verifyHere.value.rootHash !== null && Buffer.compare(verifyHere.value.rootHash, log.roots.get(N)!) === 0;
  rep.figure({
    id: 'verify.hash-here',
    label: `verifyStoredLog --hash-here (every leaf streamed and hashed in this process), over ${fmt(N)} entries (context)`,
    value: rate(verifyHere.ms),
    unit: 'entries/s',
    ratio: verifyRate / rate(verifyHere.ms),
    ratioMeaning: 'leaf hashes by PostgreSQL / here',
    goal: 'intact, same root',
    met: hereOk,
  });
  rep.figure({
    id: 'verify.rate',
    label: `verifyStoredLog over ${fmt(N)} entries (faster of 2 runs)`,
    value: verifyRate,
    unit: 'entries/s',
    baseline: { label: 'streaming the same COPYs (entries and nodes), parsed, no hashing (faster of 2 passes)', value: rate(streamBest.ms), unit: 'entries/s' },
    ratio: verifyRate / rate(streamBest.ms),
    ratioMeaning: 'verify / stream',
    goal: '≥ 300,000 entries/s',
    met: verifyRate >= 300_000,
    note: `this process's CPU: ${cpuPerEntry(verify)} µs/entry verifying, ${cpuPerEntry(streamBest)} µs/entry streaming`,
  });
  rep.figure({
    id: 'verify.hash-baseline',
    label: 'baseline: leaf hashes and every tree level, same leaves in memory',
    value: rate(hashOnly.ms),
    unit: 'entries/s',
    ratio: verifyRate / rate(hashOnly.ms),
    ratioMeaning: 'verify / hash-only',
  });
  rep.details.verification = {
    entries: N,
    seconds: {
      verifyStoredLog: [sec(verify.ms), sec(verify2.ms)],
      verifyStoredLogHashHere: sec(verifyHere.ms),
      streamBaseline: [sec(stream1.ms), sec(stream2.ms)],
      streamBaselineParts: { entries: sec(streamBest.entriesMs), nodes: sec(streamBest.nodesMs), nodeRows: streamBest.nodes },
      hashOnly: sec(hashOnly.ms),
    },
    nodeCpuMicrosecondsPerEntry: {
      verifyStoredLog: cpuPerEntry(verify),
      verifyStoredLogHashHere: cpuPerEntry(verifyHere),
      streamBaseline: cpuPerEntry(streamBest),
      hashOnly: cpuPerEntry(hashOnly),
    },
  };
  rep.log(
    `  stream baseline: entries ${sec(streamBest.entriesMs)} s, nodes ${sec(streamBest.nodesMs)} s (${fmt(streamBest.nodes)} node rows); hashing in memory ${sec(hashOnly.ms)} s`,
  );
}

const sec = (ms: number) => Math.round(ms / 10) / 100;

type Timed<T> = { value: T; ms: number; cpuUs: number };

/** Wall time and this process's CPU time (user + system) of `fn`. */
async function measure<T>(fn: () => Promise<T>): Promise<Timed<T>> {
  const cpu = process.cpuUsage();
  const t = now();
  const value = await fn();
  const ms = now() - t;
  const used = process.cpuUsage(cpu);
  return { value, ms, cpuUs: used.user + used.system };
}
