import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../src/audit/bundle.ts';
import { exportEvidence } from '../../src/audit/export.ts';
import { Ledger } from '../../src/audit/ledger.ts';
import { rootHash, treeSize } from '../../src/audit/log-store.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/audit/merkle.ts';
import { auditVerifierKey, signedTreeHead } from '../../src/audit/service.ts';
import { parseCheckpoint, parseVerifierKey, verifyNote } from '../../src/audit/signed-note.ts';
import { verifyStoredLog } from '../../src/audit/verify-log.ts';
import { copyBinaryBatches } from '../../src/db/copy-binary.ts';
import { openDatabase, queryRows } from '../../src/db/database.ts';
import { databaseUnavailable, testDbKind } from '../support/db.ts';
import { assetBody, licenseBody } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const b = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe.skipIf(databaseUnavailable())('the audit log', () => {
  let svc: TestService;
  let legal: string;
  const db = () => svc.runtime.ctx.database.db;

  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal');
  });
  afterAll(async () => svc?.close());

  it('a tree head is signed once per tree size: the same note again, a new one when the log grows', async () => {
    const ctx = svc.runtime.ctx;
    const key = ctx.keyring.audit;
    let signatures = 0;
    const counted = { ...key, sign: (d: Uint8Array) => (signatures++, key.sign(d)) };
    const size = await treeSize(db());
    const first = await signedTreeHead(db(), 'cache.test/log', counted, size);
    const again = await signedTreeHead(db(), 'cache.test/log', counted, size);
    expect(again.note).toBe(first.note);
    expect(signatures).toBe(1);
    await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() });
    const grown = await signedTreeHead(db(), 'cache.test/log', counted);
    expect(grown.treeSize).toBe(size + 1);
    expect(grown.rootHash).not.toBe(first.rootHash);
    expect(signatures).toBe(2);
    // What is kept is what a fresh signature over the stored root says.
    const { body } = verifyNote(grown.note, [parseVerifierKey(auditVerifierKey('cache.test/log', key))]);
    expect(parseCheckpoint(body).rootHash).toEqual(await rootHash(db(), size + 1));
  });

  async function checkpoint() {
    const note = await (await svc.call('GET', '/v1/audit/checkpoint')).text();
    const key = (await (await svc.call('GET', '/v1/audit/key')).json()) as { vkey: string };
    const { body } = verifyNote(note, [parseVerifierKey(key.vkey)]);
    return parseCheckpoint(body);
  }

  it('proves every change of a license life cycle against a signed checkpoint', async () => {
    const asset = (await (await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() })).json()) as { id: string; auditIndex: number };
    const v1 = (await (await svc.call('POST', `/v1/assets/${asset.id}/licenses`, { token: legal, json: licenseBody() })).json()) as { id: string; auditIndex: number };
    const v2 = (await (await svc.call('POST', `/v1/assets/${asset.id}/licenses`, { token: legal, json: licenseBody({ exclusivity: true }) })).json()) as {
      id: string;
      auditIndex: number;
    };
    const revoked = (await (await svc.call('POST', `/v1/licenses/${v2.id}/revoke`, { token: legal, json: { reason: 'ended' } })).json()) as { revocation: { auditIndex: number } };

    const head = await checkpoint();
    expect(head.origin).toBe(svc.runtime.ctx.config.auditOrigin);
    for (const index of [asset.auditIndex, v1.auditIndex, v2.auditIndex, revoked.revocation.auditIndex]) {
      const res = await svc.call('GET', `/v1/audit/proofs/inclusion?index=${index}&treeSize=${head.treeSize}`, { token: legal });
      expect(res.status).toBe(200);
      const proof = (await res.json()) as { leafHash: string; hashes: string[] };
      // The leaf hash is recomputed from the served leaf bytes, not taken on trust.
      const events = (await (await svc.call('GET', `/v1/audit/events?from=${index}&limit=1`, { token: legal })).json()) as { events: { leaf: string; index: number }[] };
      const leaf = b(events.events[0]!.leaf);
      expect(JSON.parse(Buffer.from(leaf).toString()).index).toBe(index);
      expect(Buffer.from(leafHash(leaf)).toString('base64')).toBe(proof.leafHash);
      expect(verifyInclusion(leafHash(leaf), index, head.treeSize, proof.hashes.map(b), head.rootHash)).toBe(true);
      expect(verifyInclusion(leafHash(leaf), index, head.treeSize, proof.hashes.map(b).reverse(), head.rootHash)).toBe(proof.hashes.length < 2);
    }
  });

  it('proves the log only grew between two checkpoints', async () => {
    const first = await checkpoint();
    for (let i = 0; i < 5; i++) await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() });
    const second = await checkpoint();
    expect(second.treeSize).toBe(first.treeSize + 5);
    const res = await svc.call('GET', `/v1/audit/proofs/consistency?from=${first.treeSize}&to=${second.treeSize}`, { token: legal });
    const proof = (await res.json()) as { hashes: string[] };
    expect(verifyConsistency(first.treeSize, second.treeSize, proof.hashes.map(b), first.rootHash, second.rootHash)).toBe(true);
    const flipped = new Uint8Array(first.rootHash);
    flipped[0]! ^= 1;
    expect(verifyConsistency(first.treeSize, second.treeSize, proof.hashes.map(b), flipped, second.rootHash)).toBe(false);
  });

  it('answers 422 for proofs outside the log, and 401 without a token', async () => {
    const size = await treeSize(db());
    expect((await svc.call('GET', `/v1/audit/proofs/inclusion?index=${size}`, { token: legal })).status).toBe(422);
    expect((await svc.call('GET', `/v1/audit/proofs/inclusion?index=0&treeSize=${size + 1}`, { token: legal })).status).toBe(422);
    expect((await svc.call('GET', '/v1/audit/proofs/inclusion?index=-1', { token: legal })).status).toBe(422);
    expect((await svc.call('GET', `/v1/audit/proofs/consistency?from=0&to=${size}`, { token: legal })).status).toBe(422);
    expect((await svc.call('GET', '/v1/audit/proofs/inclusion?index=0')).status).toBe(401);
    expect((await svc.call('GET', '/v1/audit/checkpoint')).status).toBe(200);
  });

  it('keeps indices dense under concurrent changes, and rolls an event back with its change', async () => {
    const ledger = svc.runtime.ctx.ledger;
    const before = await treeSize(db());
    const actor = { sub: 'test', role: 'admin' };
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        ledger.change(actor, async ({ record }) => {
          const e = record({ action: 'test.touched', subjectId: `s${i}`, content: { i } });
          if (i % 7 === 3) throw new Error('this change fails after recording');
          return e.index;
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(6);
    expect(ok.sort((x, y) => x - y)).toEqual(Array.from({ length: 34 }, (_, i) => before + i));
    expect(await treeSize(db())).toBe(before + 34);
    const verified = await verifyStoredLog(svc.runtime.ctx.database);
    expect(verified.ok).toBe(true);
    expect(verified.entries).toBe(before + 34);
  });

  it('runs changes that name different keys side by side, and changes that share a key or name none one after another', async () => {
    const ledger = svc.runtime.ctx.ledger;
    const actor = { sub: 'test', role: 'admin' };
    // How many changes were inside their work at once, at most, for 24 changes keyed by `keyOf`; and
    // whether two changes naming one key ever were.
    let clash = false;
    const mostAtOnce = async (keyOf: (i: number) => string[] | undefined, failing?: number) => {
      const before = await treeSize(db());
      let active = 0;
      let most = 0;
      const inUse = new Set<string>();
      const results = await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) =>
          ledger.change(
            actor,
            async ({ tx, record }) => {
              active++;
              most = Math.max(most, active);
              const keys = keyOf(i) ?? [];
              if (keys.some((k) => inUse.has(k))) clash = true;
              for (const k of keys) inUse.add(k);
              try {
                const e = record({ action: 'test.keyed', subjectId: `k${i}`, content: { i } });
                await tx.execute(sql`select pg_sleep(0.002)`);
                if (i === failing) throw new Error('this keyed change fails');
                return e.index;
              } finally {
                active--;
                for (const k of keys) inUse.delete(k);
              }
            },
            { touches: keyOf(i) },
          ),
        ),
      );
      const indices = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(indices.sort((x, y) => x - y)).toEqual(Array.from({ length: failing === undefined ? 24 : 23 }, (_, i) => before + i));
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(failing === undefined ? 0 : 1);
      expect((await verifyStoredLog(svc.runtime.ctx.database)).ok).toBe(true);
      return most;
    };
    expect(await mostAtOnce((i) => [`row:${i}`])).toBeGreaterThan(1);
    expect(await mostAtOnce(() => ['row:same'])).toBe(1);
    expect(await mostAtOnce(() => undefined)).toBe(1);
    // Keys shared by neighbours only: side by side, but never two changes with one key at once.
    expect(await mostAtOnce((i) => [`pair:${Math.floor(i / 2)}`, `row:${i}`])).toBeGreaterThan(1);
    expect(clash).toBe(false);
    // One failing change among side-by-side ones fails alone; the others commit with dense indices.
    expect(await mostAtOnce((i) => [`row:${i}`], 5)).toBeGreaterThan(1);
  });

  it('fails the changes it cannot start when the database is gone, instead of waiting on it', async () => {
    const gone = testDbKind === 'postgres' ? await openDatabase({ kind: 'postgres', url: svc.testDb.url! }) : await openDatabase({ kind: 'pglite' });
    const ledger = new Ledger(gone);
    await gone.close();
    const actor = { sub: 'test', role: 'admin' };
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => ledger.change(actor, async ({ record }) => record({ action: 'test.gone', subjectId: `g${i}`, content: {} }))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
  });

  it.runIf(testDbKind === 'postgres')('never forks when two service processes append to one PostgreSQL', async () => {
    const url = svc.testDb.url!;
    const [a, b2] = await Promise.all([openDatabase({ kind: 'postgres', url }), openDatabase({ kind: 'postgres', url })]);
    try {
      const before = await treeSize(db());
      const la = new Ledger(a);
      const lb = new Ledger(b2);
      const actor = { sub: 'proc', role: 'admin' };
      await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? la : lb).change(actor, async ({ record }) => record({ action: 'test.race', subjectId: `r${i}`, content: {} }))),
      );
      expect(await treeSize(db())).toBe(before + 60);
      expect((await verifyStoredLog(svc.runtime.ctx.database)).ok).toBe(true);
    } finally {
      await Promise.all([a.close(), b2.close()]);
    }
  });

  it('verifies the log as it stood when verification began, while changes keep appending', async () => {
    const before = await treeSize(db());
    const actor = { sub: 'test', role: 'admin' };
    const appending = Promise.all(
      Array.from({ length: 80 }, (_, i) => svc.runtime.ctx.ledger.change(actor, async ({ record }) => record({ action: 'test.live', subjectId: `live${i}`, content: { i } }))),
    );
    const verified = await Promise.all([verifyStoredLog(svc.runtime.ctx.database, { threads: 1 }), verifyStoredLog(svc.runtime.ctx.database, { threads: 2 })]);
    await appending;
    for (const v of verified) {
      expect(v.problem).toBeUndefined();
      expect(v.ok).toBe(true);
      expect(v.entries).toBeGreaterThanOrEqual(before);
    }
    expect((await verifyStoredLog(svc.runtime.ctx.database)).entries).toBe(before + 80);
  });

  it.runIf(testDbKind === 'postgres')("gives every COPY stream's connection back to the pool, however the stream ends", async () => {
    // postgres.js leaves its socket paused when the last CopyData fills the stream's buffer; a pool of
    // two would hang on the third such COPY without the resume in Database.copyOut.
    const small = await openDatabase({ kind: 'postgres', url: svc.testDb.url!, maxConnections: 2 });
    try {
      for (let i = 0; i < 6; i++) {
        let rows = 0;
        const copy = `copy (select g::bigint, repeat('x', ${i % 2 ? 10 : 3000})::bytea from generate_series(1, 20000) g) to stdout (format binary)`;
        for await (const batch of copyBinaryBatches(await small.copyOut!(copy), 2)) {
          rows += batch.rows;
          if (i === 4) break; // a reader that stops early
        }
        expect(rows).toBeGreaterThan(0);
      }
      expect(await queryRows(small.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
    } finally {
      await small.close();
    }
  });

  it('is append-only in the database itself', async () => {
    for (const statement of [
      sql`update audit_events set leaf = leaf where idx = 0`,
      sql`delete from audit_events where idx = 0`,
      sql`truncate audit_events`,
      sql`update audit_nodes set hash = '\\x00' where level = 0 and idx = 0`,
      sql`delete from audit_nodes`,
      sql`update license_versions set grant_training = 'allowed'`,
      sql`delete from assets`,
      sql`delete from license_revocations`,
    ]) {
      const error = await db()
        .execute(statement)
        .then(
          () => undefined,
          (e: Error & { cause?: Error }) => e,
        );
      // drizzle wraps the driver's error; the trigger's message is underneath
      expect(error?.cause?.message ?? error?.message).toMatch(/is refused: this table is append-only/);
    }
  });

  it("stores an entry as its leaf alone, and shows the leaf's fields through audit_event_facts", async () => {
    const created = await svc.call('POST', '/v1/assets', { token: legal, json: assetBody({ title: 'Facts view' }) });
    const asset = (await created.json()) as { id: string; auditIndex: number };
    const columns = await queryRows<{ column_name: string }>(db(), sql`select column_name from information_schema.columns where table_name = 'audit_events' order by column_name`);
    expect(columns.map((c) => c.column_name)).toEqual(['idx', 'leaf']);
    const [facts] = await queryRows<{ idx: string | number; action: string; subject_id: string; actor_role: string; content: { title?: string }; recorded_at: Date | string }>(
      db(),
      sql`select * from audit_event_facts where idx = ${asset.auditIndex}`,
    );
    const events = (await (await svc.call('GET', `/v1/audit/events?from=${asset.auditIndex}&limit=1`, { token: legal })).json()) as { events: { time: string; action: string }[] };
    expect(facts).toMatchObject({ action: 'asset.registered', subject_id: asset.id, actor_role: 'legal', content: { title: 'Facts view' } });
    expect(new Date(facts!.recorded_at).toISOString()).toBe(events.events[0]!.time);
  });

  it('exports an evidence bundle that verifies offline, and fails when an entry is altered', async () => {
    const { audit } = svc.runtime.ctx.keyring;
    const origin = svc.runtime.ctx.config.auditOrigin;
    const bundle = await exportEvidence(db(), origin, audit, 2, 8);
    expect(bundle.entries.map((e) => e.index)).toEqual([2, 3, 4, 5, 6, 7]);
    const key = (await (await svc.call('GET', '/v1/audit/key')).json()) as { vkey: string };
    const verdict = await verifyBundle(JSON.parse(JSON.stringify(bundle)), key.vkey);
    expect(verdict).toMatchObject({ ok: true, entriesChecked: 6, keySource: 'given' });

    const forged = JSON.parse(JSON.stringify(bundle)) as typeof bundle;
    const leaf = JSON.parse(Buffer.from(forged.entries[3]!.leaf, 'base64').toString());
    leaf.actor.sub = 'someone-else';
    forged.entries[3]!.leaf = Buffer.from(JSON.stringify(leaf)).toString('base64');
    const bad = await verifyBundle(forged, key.vkey);
    expect(bad.ok).toBe(false);
    expect(bad.failures).toEqual([{ index: 5, reason: expect.stringMatching(/inclusion proof/) }]);

    const otherKey = 'other.example+00000000+' + Buffer.concat([Buffer.from([1]), Buffer.alloc(32, 7)]).toString('base64');
    expect((await verifyBundle(bundle, otherKey)).ok).toBe(false);
  });
});

describe.skipIf(databaseUnavailable())('tampering, with the append-only triggers disabled by a superuser', () => {
  // Each case tampers with a log of its own and commits, so verification reads what a later auditor
  // would: over binary COPY on PostgreSQL, in pages on PGlite.
  let svc: TestService;
  beforeEach(async () => {
    svc = await startTestService();
    const legal = await svc.token('legal');
    for (let i = 0; i < 12; i++) await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() });
  });
  afterEach(async () => svc?.close());

  async function tampered(statements: ReturnType<typeof sql>[]) {
    const database = svc.runtime.ctx.database;
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`alter table audit_events disable trigger user`);
      await tx.execute(sql`alter table audit_nodes disable trigger user`);
      for (const s of statements) await tx.execute(s);
      await tx.execute(sql`alter table audit_events enable trigger user`);
      await tx.execute(sql`alter table audit_nodes enable trigger user`);
    });
    // Hashing on one thread or two, leaf hashes by PostgreSQL or here: the same answer.
    const [one, two] = [await verifyStoredLog(database, { pageSize: 5, threads: 1 }), await verifyStoredLog(database, { pageSize: 5, threads: 2 })];
    expect(two).toEqual(one);
    for (const leafHashes of ['database', 'here'] as const) expect(await verifyStoredLog(database, { leafHashes }), leafHashes).toEqual(one);
    return one;
  }

  it('finds an intact log intact', async () => {
    const r = await verifyStoredLog(svc.runtime.ctx.database, { pageSize: 5 });
    const db = svc.runtime.ctx.database.db;
    const size = await treeSize(db);
    expect(size).toBeGreaterThanOrEqual(12);
    expect(r).toMatchObject({ ok: true, entries: size });
    expect(Buffer.from(r.rootHash!)).toEqual(Buffer.from(await rootHash(db, size)));
    // Verification gives back every connection it streamed on (a half-read COPY stream would hold its
    // connection, and a pool of 10 would run dry within three runs).
    for (let i = 0; i < 4; i++) expect((await verifyStoredLog(svc.runtime.ctx.database, { threads: i % 2 ? 1 : 2 })).ok).toBe(true);
    expect((await verifyStoredLog(svc.runtime.ctx.database, { threads: 2 })).rootHash).toEqual(r.rootHash);
    for (const leafHashes of ['database', 'here'] as const) expect(await verifyStoredLog(svc.runtime.ctx.database, { leafHashes }), leafHashes).toEqual(r);
  });

  it('names a changed event', async () => {
    const r = await tampered([sql`update audit_events set leaf = convert_to(replace(convert_from(leaf, 'UTF8'), '"title":"', '"title":"forged '), 'UTF8') where idx = 7`]);
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ index: 7, kind: 'leaf-hash-mismatch' });
  });

  it('names a changed leaf even when its stored hash was changed to match', async () => {
    const r = await tampered([
      sql`update audit_events set leaf = convert_to(replace(convert_from(leaf, 'UTF8'), 'asset.registered', 'asset.forged'), 'UTF8') where idx = 9`,
      sql`update audit_nodes set hash = sha256('\\x00'::bytea || (select leaf from audit_events where idx = 9)) where level = 0 and idx = 9`,
    ]);
    expect(r.problem).toMatchObject({ index: 8, kind: 'node-mismatch' });
  });

  it('names a deleted event', async () => {
    const r = await tampered([sql`delete from audit_events where idx = 4`]);
    expect(r.problem).toMatchObject({ index: 4, kind: 'missing-entry' });
  });

  it('names the last events when the log lost its tail', async () => {
    const size = await treeSize(svc.runtime.ctx.database.db);
    const r = await tampered([sql`delete from audit_events where idx >= ${size - 2}`]);
    expect(r.problem).toMatchObject({ index: size - 2, kind: 'missing-entry' });
  });

  it('names reordered events', async () => {
    const r = await tampered([
      sql`update audit_events set idx = -1 where idx = 5`,
      sql`update audit_events set idx = 5 where idx = 6`,
      sql`update audit_events set idx = 6 where idx = -1`,
    ]);
    expect(r.problem).toMatchObject({ index: 5, kind: 'leaf-mismatch' });
  });

  it('names a changed tree node', async () => {
    const r = await tampered([sql`update audit_nodes set hash = sha256('x'::bytea) where level = 2 and idx = 1`]);
    expect(r.problem).toMatchObject({ index: 4, kind: 'node-mismatch' });
  });
});
