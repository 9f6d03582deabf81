import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStoredLog } from '../../src/audit/verify-log.ts';
import { queryRows } from '../../src/db/database.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

// The service remembers every tree head it signed, outside the tree's rows; a tail cut off the log is
// then refused and named (issue 17).
describe.skipIf(databaseUnavailable())('a log rolled back behind a signed tree head', () => {
  let svc: TestService;
  let legal: string;
  let signedSize: number;
  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal');
    for (let i = 0; i < 6; i++) await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() });
    const head = await (await svc.call('GET', '/v1/audit/checkpoint')).text();
    signedSize = Number(head.split('\n')[1]);
    const database = svc.runtime.ctx.database;
    expect((await verifyStoredLog(database)).ok).toBe(true);
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`alter table audit_events disable trigger user`);
      await tx.execute(sql`alter table audit_nodes disable trigger user`);
      await tx.execute(sql`delete from audit_events where idx >= ${signedSize - 2}`);
      await tx.execute(sql`delete from audit_nodes where idx * (1::bigint << level) + (1::bigint << level) > ${signedSize - 2}`);
      await tx.execute(sql`alter table audit_events enable trigger user`);
      await tx.execute(sql`alter table audit_nodes enable trigger user`);
    });
  });
  afterAll(async () => svc?.close());

  it('remembers the heads it signed, and they cannot be changed', async () => {
    const db = svc.runtime.ctx.database.db;
    const [largest] = await queryRows<{ tree_size: string | number }>(db, sql`select tree_size from audit_signed_heads order by tree_size desc limit 1`);
    expect(Number(largest!.tree_size)).toBe(signedSize);
    await expect(db.execute(sql`delete from audit_signed_heads`)).rejects.toThrow();
  });

  it('audit verify names the rollback, though the smaller tree is intact in itself', async () => {
    const result = await verifyStoredLog(svc.runtime.ctx.database);
    expect(result).toMatchObject({ ok: false, entries: signedSize - 2, problem: { kind: 'rolled-back', index: signedSize - 2 } });
    expect(result.problem!.detail).toBe(`rolled back from ${signedSize} to ${signedSize - 2}: the service signed a tree of ${signedSize} entries`);
  });

  it('signs and serves no tree head for the smaller tree', async () => {
    const res = await svc.call('GET', '/v1/audit/checkpoint');
    expect(res.status).toBe(500);
    const body = (await res.json()) as { detail: string; signedTreeSize: number; treeSize: number };
    expect(body).toMatchObject({ signedTreeSize: signedSize, treeSize: signedSize - 2 });
    expect(body.detail).toMatch(`rolled back from ${signedSize} to ${signedSize - 2} entries`);
  });
});
