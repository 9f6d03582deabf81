import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    // drizzle wraps the driver's error; the database's own message is its cause's.
    const err = e as { message: string; cause?: { message?: string } };
    return `${err.message} ${err.cause?.message ?? ''}`;
  }
  return 'not refused';
};

// An entry reaches audit_events only through the append path (migrations/0013), and a log whose tip lacks
// its tree nodes is named by /readyz and by every write, rather than a 500 (issue 17).
describe.skipIf(databaseUnavailable())('the audit append path', () => {
  let svc: TestService;
  let legal: string;
  const db = () => svc.runtime.ctx.database.db;
  const leaf = sql`convert_to('{"stray":true}', 'UTF8')`;
  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal');
    for (let i = 0; i < 3; i++) expect((await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() })).status).toBe(201);
  });
  afterAll(async () => svc?.close());

  it('refuses a plain INSERT into audit_events, and one under the lock whose index is not the next', async () => {
    const size = await treeSize(db());
    expect(await refusal(db().execute(sql`insert into audit_events (idx, leaf) values (${size}, ${leaf})`))).toMatch(/only through the audit append path/);
    const underLock = db().transaction(async (tx) => {
      await tx.execute(sql`select clearframe_append_lock()`);
      await tx.execute(sql`insert into audit_events (idx, leaf) values (${size + 5}, ${leaf})`);
    });
    expect(await refusal(underLock)).toMatch(new RegExp(`audit entry ${size + 5} is refused: the next entry of the log is ${size}`));
    expect(await treeSize(db())).toBe(size);
  });

  it('still takes the service’s own appends, batches of several entries included', async () => {
    const before = await treeSize(db());
    const answers = await Promise.all(Array.from({ length: 12 }, () => svc.call('POST', '/v1/assets', { token: legal, json: assetBody() })));
    expect(answers.map((r) => r.status)).toEqual(new Array(12).fill(201));
    expect(await treeSize(db())).toBe(before + 12);
    const ready = await svc.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { auditLog: true }, reasons: [] });
  });

  it('names a stray entry (written with the triggers disabled) in /readyz and in every write, with 503', async () => {
    const size = await treeSize(db());
    await db().transaction(async (tx) => {
      await tx.execute(sql`alter table audit_events disable trigger user`);
      await tx.execute(sql`insert into audit_events (idx, leaf) values (${size}, ${leaf})`);
      await tx.execute(sql`alter table audit_events enable trigger user`);
    });
    const ready = await svc.call('GET', '/readyz');
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { status: string; checks: Record<string, boolean>; reasons: string[] };
    expect(body).toMatchObject({ status: 'not ready', checks: { database: true, keys: true, auditLog: false } });
    expect(body.reasons.join(' ')).toMatch(new RegExp(`audit log cannot be appended to: its last entry is ${size} but its last leaf node is ${size - 1}`));

    for (const [method, url, json] of [
      ['POST', '/v1/assets', assetBody()],
      ['GET', '/v1/audit/checkpoint', undefined],
    ] as const) {
      const res = await svc.call(method, url, { token: legal, ...(json ? { json } : {}) });
      expect(res.status, url).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { detail: string }).detail).toMatch(/the audit log cannot be appended to or signed: it has no tree node/);
    }
    expect(await treeSize(db())).toBe(size + 1);
  });
});
