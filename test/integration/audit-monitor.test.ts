import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogFetch, type MonitorState, monitorLog } from '../../src/audit/monitor.ts';
import { noteSigner } from '../../src/audit/service.ts';
import { formatCheckpoint, signNote } from '../../src/audit/signed-note.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

// A monitor holding an earlier checkpoint catches what the log cannot see in itself (issue 17).
describe.skipIf(databaseUnavailable())('the audit log monitor', () => {
  let svc: TestService;
  let legal: string;
  const fetchLog: LogFetch = (path, headers) => svc.call('GET', path, { headers });
  const register = () => svc.call('POST', '/v1/assets', { token: legal, json: assetBody() });

  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal');
    for (let i = 0; i < 4; i++) await register();
  });
  afterAll(async () => svc?.close());

  it('pins the key at the first run, then follows a growing log with consistency proofs', async () => {
    const first = await monitorLog(fetchLog, {});
    expect(first).toMatchObject({ status: 'first', keyFromLog: true });
    const state = (first as { state: MonitorState }).state;
    expect(await monitorLog(fetchLog, { state, token: legal })).toMatchObject({ status: 'unchanged', from: state.treeSize });
    await register();
    await register();
    expect(await monitorLog(fetchLog, { state, token: legal })).toMatchObject({ status: 'consistent', from: state.treeSize, treeSize: state.treeSize + 2 });
  });

  it('says a log forked when another tree is signed for a size it saw, or one that does not extend it', async () => {
    const { state } = (await monitorLog(fetchLog, {})) as { state: MonitorState };
    const { config, keyring } = svc.runtime.ctx;
    // The log's own key signs a different root: what a superuser who rewrote every node could serve.
    const forge = async (treeSize: number) =>
      signNote(formatCheckpoint({ origin: config.auditOrigin, treeSize, rootHash: new Uint8Array(32).fill(7) }), noteSigner(config.auditOrigin, keyring.audit));
    const serving =
      (note: string): LogFetch =>
      async (path, headers) =>
        path === '/v1/audit/checkpoint' ? new Response(note) : fetchLog(path, headers);
    expect(await monitorLog(serving(await forge(state.treeSize)), { state, token: legal })).toMatchObject({ status: 'forked', treeSize: state.treeSize });
    await register();
    expect(await monitorLog(serving(await forge(state.treeSize + 1)), { state, token: legal })).toMatchObject({ status: 'forked', from: state.treeSize });
  });

  it('refuses a checkpoint that the pinned key did not sign', async () => {
    const { state } = (await monitorLog(fetchLog, {})) as { state: MonitorState };
    const other = `other.example+00000000+${Buffer.concat([Buffer.from([1]), Buffer.alloc(32, 7)]).toString('base64')}`;
    expect(await monitorLog(fetchLog, { verifierKey: other })).toMatchObject({ status: 'invalid' });
    expect(await monitorLog(fetchLog, { state: { ...state, verifierKey: other }, verifierKey: other })).toMatchObject({ status: 'invalid' });
  });
  // Last: it cuts the shared log's tail.
  it('says a log rolled back when its tail was cut off', async () => {
    const { state } = (await monitorLog(fetchLog, {})) as { state: MonitorState };
    const size = state.treeSize;
    await svc.runtime.ctx.database.db.transaction(async (tx) => {
      await tx.execute(sql`alter table audit_events disable trigger user`);
      await tx.execute(sql`alter table audit_nodes disable trigger user`);
      await tx.execute(sql`delete from audit_events where idx >= ${size - 2}`);
      // A thorough attacker also drops what the service remembers signing; only the monitor's copy is left.
      await tx.execute(sql`alter table audit_signed_heads disable trigger user`);
      await tx.execute(sql`delete from audit_signed_heads`);
      await tx.execute(sql`alter table audit_signed_heads enable trigger user`);
      await tx.execute(sql`alter table audit_events enable trigger user`);
      await tx.execute(sql`alter table audit_nodes enable trigger user`);
    });
    const result = await monitorLog(fetchLog, { state, token: legal });
    expect(result).toMatchObject({ status: 'rolled-back', from: size, treeSize: size - 2 });
    expect((result as { detail: string }).detail).toMatch(`rolled back from ${size} to ${size - 2}`);
  });
});
