/**
 * Several delivery workers on one PostgreSQL (as several instances run them): passes that claim at the same
 * moment never send the same attempt twice (FOR UPDATE SKIP LOCKED and the lease in one statement). Each
 * worker has its own connection pool, as a process of its own would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { DeliveryWorker } from '../../src/notifications/worker.ts';
import { databaseUnavailable, testDbKind } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

describe.skipIf(databaseUnavailable() || testDbKind !== 'postgres')('delivery workers on one PostgreSQL', { timeout: 120_000 }, () => {
  let svc: TestService;
  let receiver: WebhookReceiver;
  const pools: Database[] = [];

  beforeAll(async () => {
    receiver = new WebhookReceiver();
    await receiver.up();
    // The service's own worker polls rarely: the workers under test do the sending.
    svc = await startTestService({ WEBHOOK_ALLOWED_ORIGINS: receiver.origin, WEBHOOK_WORKER_INTERVAL_MS: '3600000', LICENSE_ENDING_CHECK_SECONDS: '0' });
  });
  afterAll(async () => {
    for (const p of pools) await p.close();
    await svc?.close();
    await receiver?.down();
  });

  it('four workers claiming at once send every notification exactly once', async () => {
    // The service's worker made its first pass at start; stop it so only the four below send.
    await svc.runtime.ctx.notifications.worker!.stop();
    const legal = await svc.token('legal');
    const vendor = await svc.token('vendor');
    const { assets } = await activeCheckpoint(svc, legal, vendor, 1);
    for (let i = 0; i < 40; i++) {
      const res = await svc.call('POST', '/v1/subscriptions', { token: legal, json: { url: `${receiver.origin}/s${i}`, events: ['license.revoked', 'checkpoint.tainted'] } });
      expect(res.status).toBe(201);
    }
    expect((await svc.call('POST', `/v1/licenses/${assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'rescinded' } })).status).toBe(200);

    const workers = [];
    for (let i = 0; i < 4; i++) {
      const database = await openDatabase({ kind: 'postgres', url: svc.testDb.url!, maxConnections: 3 });
      pools.push(database);
      workers.push(new DeliveryWorker({ database, signer: svc.runtime.ctx.keyring.clearance, config: svc.runtime.ctx.config.notifications }));
    }
    let sent = 0;
    for (let round = 0; round < 10 && receiver.received.length < 80; round++) {
      sent += (await Promise.all(workers.map((w) => w.runOnce()))).reduce((a, b) => a + b, 0);
    }
    expect(sent).toBe(80);
    expect(receiver.received).toHaveLength(80);
    const ids = receiver.received.map((r) => r.headers['clearframe-event-id']);
    expect(new Set(ids).size).toBe(80);
    // Nothing is left to claim.
    expect((await Promise.all(workers.map((w) => w.runOnce()))).every((n) => n === 0)).toBe(true);
  });
});
