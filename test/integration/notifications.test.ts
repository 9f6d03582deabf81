/**
 * Webhook notifications (issue 19) against a real receiver on 127.0.0.1: a revocation reaches it with every
 * checkpoint and output it taints, signed (checked with jose against /.well-known/jwks.json); the receiver
 * down (refused, then 503) and then up gets every event once it is up; the allow-list and what a distributor
 * may read; the delivery log; license.ending written once per (subscription, version, days); the output of a
 * retired checkpoint whose clearance falls heard of once.
 */
import type { JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepTaints } from '../../src/checkpoints/service.ts';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { licenseBody } from '../support/fixtures.ts';
import { activeCheckpoint, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { until, verifyDelivery, WebhookReceiver } from '../support/webhook-receiver.ts';

const GRANTS = { grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' } };

describe.skipIf(databaseUnavailable())('notifications', { timeout: 120_000 }, () => {
  let svc: TestService;
  let receiver: WebhookReceiver;
  let legal: string;
  let vendor: string;
  let generator: string;
  let distributor: string;
  let jwks: JSONWebKeySet;

  beforeAll(async () => {
    receiver = new WebhookReceiver();
    await receiver.up();
    svc = await startTestService({
      WEBHOOK_ALLOWED_ORIGINS: `https://hooks.distributor.example, ${receiver.origin}`,
      WEBHOOK_WORKER_INTERVAL_MS: '50',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_RETRY_CAP_MS: '300',
      WEBHOOK_TIMEOUT_MS: '2000',
      LICENSE_ENDING_CHECK_SECONDS: '0',
    });
    [legal, vendor, generator, distributor] = await Promise.all([
      svc.token('legal'),
      svc.token('vendor'),
      svc.token('generator', 'render-farm'),
      svc.token('distributor', 'dist@cinema.example'),
    ]);
    jwks = (await (await svc.call('GET', '/.well-known/jwks.json')).json()) as JSONWebKeySet;
  });
  afterAll(async () => {
    await svc?.close();
    await receiver?.down();
  });

  async function sign(checkpointId: string, seed: number): Promise<string> {
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpointId);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status, await res.clone().text()).toBe(200);
    return res.headers.get('clearframe-output-id')!;
  }
  async function subscribe(token: string, body: Record<string, unknown>) {
    const res = await svc.call('POST', '/v1/subscriptions', { token, json: { url: `${receiver.origin}/hook`, ...body } });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { id: string; auditIndex: number };
  }
  const revoke = async (licenseId: string) => {
    const res = await svc.call('POST', `/v1/licenses/${licenseId}/revoke`, { token: legal, json: { reason: 'the contract was rescinded' } });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { taintedCheckpoints: string[] };
  };
  const deleteAll = async () => {
    const page = (await (await svc.call('GET', '/v1/subscriptions?limit=200', { token: legal })).json()) as { items: { id: string }[] };
    for (const s of page.items) expect((await svc.call('DELETE', `/v1/subscriptions/${s.id}`, { token: legal })).status).toBe(200);
  };

  it('a revocation reaches the receiver with every checkpoint and output it taints, signed with a key of the JWKS', async () => {
    const { assets, checkpoint } = await activeCheckpoint(svc, legal, vendor, 2, GRANTS);
    const outs = [await sign(checkpoint.id, 71), await sign(checkpoint.id, 72)];
    const legalSub = await subscribe(legal, { events: ['license.revoked', 'checkpoint.tainted'], filter: { assetIds: [assets[0]!.assetId] } });
    const distSub = await subscribe(distributor, { events: ['output.standingChanged'], filter: { outputIds: [outs[1]] } });

    const revoked = await revoke(assets[0]!.licenseId!);
    expect(revoked.taintedCheckpoints).toEqual([checkpoint.id]);

    const events = await until('three events', () => {
      const e = receiver.events().filter((x) => x.subscriptionId === legalSub.id || x.subscriptionId === distSub.id);
      return e.length >= 3 && e;
    });
    const revocation = events.find((e) => e.type === 'license.revoked')!;
    expect(revocation.data).toMatchObject({ licenseId: assets[0]!.licenseId, assetId: assets[0]!.assetId, reason: 'the contract was rescinded' });
    expect(revocation.data.taintedCheckpoints).toEqual([expect.objectContaining({ id: checkpoint.id })]);
    expect((revocation.data.taintedOutputs as { id: string }[]).map((o) => o.id).sort()).toEqual([...outs].sort());
    expect(events.find((e) => e.type === 'checkpoint.tainted')!.data).toMatchObject({ checkpointId: checkpoint.id, outputs: outs });
    // The distributor hears of the one output it holds, not the other.
    const standing = events.filter((e) => e.subscriptionId === distSub.id);
    expect(standing.map((e) => [e.type, e.data.outputId, e.data.standing])).toEqual([['output.standingChanged', outs[1], 'tainted']]);
    expect(standing[0]!.data.cause).toMatchObject({ code: 'license-revoked' });

    // Every delivery is signed over its exact body by a key of the ledger's JWKS, and says its id twice.
    const clearanceKid = (await svc.runtime.ctx.keyring.clearance).kid;
    for (const r of receiver.received.filter((x) => x.answered === 200)) {
      const { kid, typ } = await verifyDelivery(r, jwks);
      expect(kid).toBe(clearanceKid);
      expect(typ).toBe('clearframe-event+jws');
      expect(r.headers['clearframe-event-id']).toBe((JSON.parse(r.body) as { id: string }).id);
    }
    // A body changed in transit no longer verifies.
    const one = receiver.received.find((x) => x.answered === 200)!;
    await expect(verifyDelivery({ ...one, body: one.body.replace('"type"', '"typo"') }, jwks)).rejects.toThrow();

    // The delivery log says so; the subscription's creation is in the audit log at its index.
    const log = (await (await svc.call('GET', `/v1/subscriptions/${legalSub.id}/deliveries`, { token: legal })).json()) as {
      items: { eventId: string; state: string; type: string; attempts: { outcome: string; statusCode: number }[] }[];
    };
    expect(log.items.map((i) => i.type).sort()).toEqual(['checkpoint.tainted', 'license.revoked']);
    for (const i of log.items) expect(i).toMatchObject({ state: 'delivered', attempts: [{ outcome: 'delivered', statusCode: 200 }] });
    const entries = (await (await svc.call('GET', `/v1/audit/events?from=${legalSub.auditIndex}&limit=1`, { token: legal })).json()) as {
      events: { action: string; subjectId: string }[];
    };
    expect(entries.events[0]).toMatchObject({ action: 'subscription.created', subjectId: legalSub.id });
    // The distributor sees its own subscription only.
    expect((await svc.call('GET', `/v1/subscriptions/${legalSub.id}`, { token: distributor })).status).toBe(404);
    const theirs = (await (await svc.call('GET', '/v1/subscriptions', { token: distributor })).json()) as { items: { id: string }[] };
    expect(theirs.items.map((s) => s.id)).toEqual([distSub.id]);
    await deleteAll();
  });

  it('the receiver down (refused, then 503) and then up: every event arrives once it is up', async () => {
    const { assets, checkpoint } = await activeCheckpoint(svc, legal, vendor, 3, GRANTS);
    const out = await sign(checkpoint.id, 81);
    const sub = await subscribe(legal, { events: ['license.revoked', 'checkpoint.tainted', 'output.standingChanged'] });
    await receiver.down();
    await revoke(assets[0]!.licenseId!);
    // A second revocation on the same checkpoint: it is already tainted, so only the revocation is new.
    await revoke(assets[1]!.licenseId!);
    const deliveries = async () =>
      (await (await svc.call('GET', `/v1/subscriptions/${sub.id}/deliveries`, { token: legal })).json()) as {
        items: { eventId: string; state: string; attempts: { outcome: string; statusCode: number | null; error: string | null }[] }[];
      };
    await until('refused attempts', async () => (await deliveries()).items.every((i) => i.attempts.length >= 2));
    const refused = (await deliveries()).items.flatMap((i) => i.attempts);
    for (const a of refused) expect(a).toMatchObject({ outcome: 'retry', statusCode: null });
    expect(refused.some((a) => /ECONNREFUSED/.test(a.error ?? ''))).toBe(true);
    receiver.mode = '503';
    await receiver.up();
    await until('503 answers', () => receiver.received.some((r) => r.answered === 503));
    receiver.mode = 'ok';
    const got = await until('every event', () => {
      const e = receiver.events().filter((x) => x.subscriptionId === sub.id);
      return e.length >= 4 && e;
    });
    expect(got.map((e) => e.type).sort()).toEqual(['checkpoint.tainted', 'license.revoked', 'license.revoked', 'output.standingChanged']);
    expect(got.find((e) => e.type === 'output.standingChanged')!.data.outputId).toBe(out);
    const log = await until('all delivered', async () => {
      const d = await deliveries();
      return d.items.every((i) => i.state === 'delivered') && d;
    });
    expect(log.items).toHaveLength(4);
    for (const i of log.items) {
      expect(i.attempts.at(-1)).toMatchObject({ outcome: 'delivered', statusCode: 200 });
      expect(i.attempts.length).toBeGreaterThan(1);
    }
    // Retried deliveries carry the same id: the receiver saw duplicates of none it accepted twice.
    const accepted = receiver.received.filter((r) => r.answered === 200 && (JSON.parse(r.body) as { subscriptionId: string }).subscriptionId === sub.id);
    expect(new Set(accepted.map((r) => r.headers['clearframe-event-id'])).size).toBe(4);
    await deleteAll();
  });

  it('a term that ended: the sweep that records the taint notifies the checkpoint and its outputs', async () => {
    const end = new Date(Date.now() + 4000);
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1, { ...GRANTS, term: { start: '2026-01-01T00:00:00Z', end: end.toISOString() } });
    const out = await sign(checkpoint.id, 61);
    const sub = await subscribe(legal, { events: ['checkpoint.tainted', 'output.standingChanged'], filter: { checkpointIds: [checkpoint.id] } });
    await new Promise((r) => setTimeout(r, Math.max(0, end.getTime() - Date.now() + 200)));
    expect(await sweepTaints(svc.runtime.ctx.ledger)).toContain(checkpoint.id);
    const got = await until('two events', () => {
      const e = receiver.events().filter((x) => x.subscriptionId === sub.id);
      return e.length >= 2 && e;
    });
    expect(got.find((e) => e.type === 'checkpoint.tainted')!.data).toMatchObject({ checkpointId: checkpoint.id, cause: { kind: 'license-expired' }, outputs: [out] });
    expect(got.find((e) => e.type === 'output.standingChanged')!.data).toMatchObject({ outputId: out, standing: 'tainted', cause: { code: 'license-expired' } });
    await deleteAll();
  });

  it('a retired checkpoint whose clearance falls: its output’s holder hears once, signed; an unrelated output nothing', async () => {
    const { assets, checkpoint } = await activeCheckpoint(svc, legal, vendor, 2, GRANTS);
    const other = await activeCheckpoint(svc, legal, vendor, 1, GRANTS);
    // Signed while active: a retired checkpoint signs nothing more, but what it made is still held.
    const held = await sign(checkpoint.id, 111);
    const unrelated = await sign(other.checkpoint.id, 112);
    for (const id of [checkpoint.id, other.checkpoint.id]) {
      expect((await svc.call('POST', `/v1/checkpoints/${id}/retire`, { token: legal, json: { reason: 'superseded by pass 2' } })).status).toBe(200);
    }
    const distSub = await subscribe(distributor, { events: ['output.standingChanged'], filter: { outputIds: [held, unrelated] } });
    const legalSub = await subscribe(legal, { events: ['license.revoked', 'checkpoint.tainted', 'output.standingChanged'], filter: { outputIds: [held] } });

    // Retired, so not tainted: the clearance under it falls all the same.
    expect((await revoke(assets[0]!.licenseId!)).taintedCheckpoints).toEqual([]);

    const deliveries = async (subId: string) =>
      (await (await svc.call('GET', `/v1/subscriptions/${subId}/deliveries`, { token: legal })).json()) as { items: { type: string; state: string }[] };
    await until('all delivered', async () => {
      const [d, l] = await Promise.all([deliveries(distSub.id), deliveries(legalSub.id)]);
      return d.items.length > 0 && l.items.length >= 2 && [...d.items, ...l.items].every((i) => i.state === 'delivered');
    });
    // Once: one outbox row for the distributor, one event id at the receiver.
    expect((await deliveries(distSub.id)).items.map((i) => i.type)).toEqual(['output.standingChanged']);
    const theirs = receiver.events().filter((e) => e.subscriptionId === distSub.id);
    expect(theirs.map((e) => [e.type, e.data.outputId])).toEqual([['output.standingChanged', held]]);

    // What it says is what the output's standing reads now.
    const listed = (await (await svc.call('GET', `/v1/outputs?checkpointId=${checkpoint.id}`, { token: legal })).json()) as {
      items: { id: string; standing: { status: string; cause: { code: string; message: string } | null } }[];
    };
    const now = listed.items.find((o) => o.id === held)!.standing;
    expect(now).toMatchObject({ status: 'tainted', cause: { code: 'license-revoked' } });
    expect(theirs[0]!.data).toMatchObject({ checkpointId: checkpoint.id, standing: now.status, cause: now.cause, licenseId: assets[0]!.licenseId });
    expect(theirs[0]!.auditIndex).toEqual(expect.any(Number));

    // Legal hears the revocation name the output (not the checkpoint: it is retired, not tainted), and its standing.
    const legals = receiver.events().filter((e) => e.subscriptionId === legalSub.id);
    expect(legals.map((e) => e.type).sort()).toEqual(['license.revoked', 'output.standingChanged']);
    const revocation = legals.find((e) => e.type === 'license.revoked')!;
    expect(revocation.data.taintedCheckpoints).toEqual([]);
    expect(revocation.data.taintedOutputs).toEqual([{ id: held, checkpointId: checkpoint.id }]);

    // Signed as every delivery is.
    const clearanceKid = (await svc.runtime.ctx.keyring.clearance).kid;
    const bodies = receiver.received.filter((r) => r.answered === 200 && (JSON.parse(r.body) as { subscriptionId: string }).subscriptionId === distSub.id);
    expect(bodies.length).toBeGreaterThan(0);
    for (const r of bodies) expect(await verifyDelivery(r, jwks)).toEqual({ kid: clearanceKid, typ: 'clearframe-event+jws' });
    // The unrelated output's standing did not change: nobody hears of it.
    expect(receiver.events().some((e) => e.data.outputId === unrelated)).toBe(false);

    // A second license under the fallen clearance revoked: the output was tainted already, nothing more to hear.
    const allSub = await subscribe(legal, { events: ['license.revoked'] });
    await revoke(assets[1]!.licenseId!);
    const second = await until('the second revocation', () => receiver.events().find((e) => e.subscriptionId === allSub.id && e.data.licenseId === assets[1]!.licenseId));
    expect(second.data.taintedOutputs).toEqual([]);
    await until('nothing pending', async () => (await deliveries(allSub.id)).items.every((i) => i.state === 'delivered'));
    expect((await deliveries(distSub.id)).items).toHaveLength(1);
    await deleteAll();
  });

  it('refuses a callback URL whose origin is not allowed (422), and changes nothing', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://127.0.0.1:1/hook', 'https://hooks.distributor.example.evil.test/x', 'file:///etc/passwd', 'not a url']) {
      const res = await svc.call('POST', '/v1/subscriptions', { token: legal, json: { url, events: ['license.revoked'] } });
      expect(res.status, url).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(((await res.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe('url');
    }
    // An allowed origin with any path is fine.
    const ok = await svc.call('POST', '/v1/subscriptions', { token: legal, json: { url: 'https://hooks.distributor.example/clearframe?team=7', events: ['license.revoked'] } });
    expect(ok.status).toBe(201);
    const bad = await svc.call('POST', '/v1/subscriptions', { token: legal, json: { url: `${receiver.origin}/h`, events: ['license.ending'] } });
    expect(bad.status).toBe(422);
    const unknownEvent = await svc.call('POST', '/v1/subscriptions', { token: legal, json: { url: `${receiver.origin}/h`, events: ['license.granted'] } });
    expect(unknownEvent.status).toBe(422);
    await deleteAll();
  });

  it('a distributor may subscribe only to the standing of outputs, and only name outputs that exist', async () => {
    const { checkpoint, assets } = await activeCheckpoint(svc, legal, vendor, 1, GRANTS);
    const out = await sign(checkpoint.id, 91);
    for (const body of [
      { events: ['license.revoked'] },
      { events: ['checkpoint.tainted'] },
      { events: ['output.standingChanged', 'license.ending'], daysBefore: 7 },
      { events: ['output.standingChanged'], filter: { assetIds: [assets[0]!.assetId] } },
      { events: ['output.standingChanged'], filter: { checkpointIds: [checkpoint.id] } },
    ]) {
      const res = await svc.call('POST', '/v1/subscriptions', { token: distributor, json: { url: `${receiver.origin}/d`, ...body } });
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
    const unknown = await svc.call('POST', '/v1/subscriptions', {
      token: distributor,
      json: { url: `${receiver.origin}/d`, events: ['output.standingChanged'], filter: { outputIds: ['out_nope'] } },
    });
    expect(unknown.status).toBe(422);
    expect((await svc.call('POST', '/v1/subscriptions', { token: vendor, json: { url: `${receiver.origin}/d`, events: ['output.standingChanged'] } })).status).toBe(403);
    expect((await (await svc.call('GET', '/v1/subscriptions', { token: distributor })).json()) as { items: unknown[] }).toMatchObject({ items: [] });
    const sub = await subscribe(distributor, { events: ['output.standingChanged'], filter: { outputIds: [out] } });
    // Deleted through the log; a second delete is a conflict, another's subscription an unknown id.
    const del = await svc.call('DELETE', `/v1/subscriptions/${sub.id}`, { token: distributor });
    expect(del.status).toBe(200);
    const deleted = (await del.json()) as { status: string; deletedAuditIndex: number };
    expect(deleted.status).toBe('deleted');
    const entries = (await (await svc.call('GET', `/v1/audit/events?from=${deleted.deletedAuditIndex}&limit=1`, { token: legal })).json()) as { events: { action: string }[] };
    expect(entries.events[0]!.action).toBe('subscription.deleted');
    expect((await svc.call('DELETE', `/v1/subscriptions/${sub.id}`, { token: distributor })).status).toBe(409);
  });

  it('license.ending: one notification per (subscription, license version, days before), never twice', async () => {
    const now = new Date();
    const day = 24 * 3600 * 1000;
    const ending = await licensedAsset(svc, legal, { term: { start: '2026-01-01T00:00:00Z', end: new Date(now.getTime() + 10 * day).toISOString() } });
    const sub = await subscribe(legal, { events: ['license.ending'], daysBefore: [30, 7], filter: { assetIds: [ending.assetId] } });
    const check = svc.runtime.ctx.notifications.checkLicenseEnding;
    expect(await check(now)).toBe(1);
    expect(await check(now)).toBe(0);
    expect(await check(new Date(now.getTime() + 4 * day))).toBe(1);
    expect(await check(new Date(now.getTime() + 5 * day))).toBe(0);
    const got = await until('two license.ending', () => {
      const e = receiver.events().filter((x) => x.subscriptionId === sub.id);
      return e.length >= 2 && e;
    });
    expect(got.map((e) => e.data.daysBefore).sort()).toEqual([30, 7]);
    expect(got[0]!.data).toMatchObject({ licenseId: ending.licenseId, assetId: ending.assetId });
    expect(got[0]!.auditIndex).toBeNull();
    // A new version of the terms is a new license version: told again.
    const amended = await svc.call('POST', `/v1/assets/${ending.assetId}/licenses`, {
      token: legal,
      json: licenseBody({ term: { start: '2026-01-01T00:00:00Z', end: new Date(now.getTime() + 3 * day).toISOString() } }),
    });
    expect(amended.status).toBe(201);
    expect(await check(now)).toBe(2);
    await deleteAll();
  });
});

describe.skipIf(databaseUnavailable())('notifications without WEBHOOK_ALLOWED_ORIGINS', () => {
  it('no subscription can be made: 422 saying so', async () => {
    const svc = await startTestService();
    try {
      const res = await svc.call('POST', '/v1/subscriptions', {
        token: await svc.token('legal'),
        json: { url: 'https://hooks.distributor.example/x', events: ['license.revoked'] },
      });
      expect(res.status).toBe(422);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/WEBHOOK_ALLOWED_ORIGINS is not set/);
      expect(svc.runtime.ctx.notifications.worker).toBeNull();
    } finally {
      await svc.close();
    }
  });
});
