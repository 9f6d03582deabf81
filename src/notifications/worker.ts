import { and, eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { type Database, queryRows } from '../db/database.ts';
import type { Signer } from '../signing/signer.ts';
import { callbackRefusal } from './origins.ts';
import { type AttemptResult, afterAttempt, isDelivered, type RetryPolicy, retryDelayMs } from './retry.ts';
import { signBody } from './signature.ts';
import { notificationDeliveries, notificationOutbox } from './tables.ts';

type Claimed = { id: string; subscription_id: string; event_type: string; body: string; attempts: number; url: string };

/** Rows one pass claims at most. */
const BATCH = 32;
/** Deliveries in flight at once. */
const PARALLEL = 8;

/**
 * Delivers the outbox: at least once, with retries. A pass claims the due rows under `FOR UPDATE SKIP
 * LOCKED` and, in that same statement, counts the attempt and moves the row's due time past the attempt's
 * lease (its timeout and a margin): another instance on the same PostgreSQL skips what is claimed and then
 * finds it not due, so no attempt is sent twice at once. A process killed mid-attempt leaves the row pending:
 * once the lease is over it is claimed again. Each attempt is logged, then the row is marked delivered,
 * due again after the backoff, or failed after the last attempt.
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;

  constructor(
    private readonly deps: {
      database: Database;
      signer: Signer;
      config: Config['notifications'];
      logger?: Logger;
      random?: () => number;
    },
  ) {}

  private get policy(): RetryPolicy {
    const c = this.deps.config;
    return { baseMs: c.retryBaseMs, capMs: c.retryCapMs, maxAttempts: c.maxAttempts };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Waits for the pass in progress; nothing new is claimed after. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => {});
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const pass = this.runOnce().then(
        (n) => this.schedule(n >= BATCH ? 0 : this.deps.config.workerIntervalMs),
        (err: unknown) => {
          this.deps.logger?.error({ err: (err as Error).message }, 'notification delivery pass failed');
          this.schedule(this.deps.config.workerIntervalMs);
        },
      );
      this.running = pass;
    }, ms);
    this.timer.unref();
  }

  /** One pass: claims what is due now and delivers it; the number of attempts made. */
  async runOnce(now = new Date()): Promise<number> {
    const leaseMs = this.deps.config.timeoutMs + 5_000;
    const claimed = await queryRows<Claimed>(
      this.deps.database.db,
      sql`update notification_outbox o
          set attempts = o.attempts + 1, next_attempt_at = ${new Date(now.getTime() + leaseMs).toISOString()}::timestamptz
          from (select id from notification_outbox
                where state = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz
                order by next_attempt_at limit ${BATCH}
                for update skip locked) due
          where o.id = due.id
          returning o.id, o.subscription_id, o.event_type, o.body, o.attempts,
            (select s.url from notification_subscriptions s where s.id = o.subscription_id) as url`,
    );
    let next = 0;
    const lane = async () => {
      while (next < claimed.length) {
        const row = claimed[next++]!;
        await this.deliver(row).catch((err: unknown) => this.deps.logger?.error({ err: (err as Error).message, eventId: row.id }, 'notification attempt not recorded'));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, claimed.length) }, lane));
    return claimed.length;
  }

  private async deliver(row: Claimed): Promise<void> {
    const started = performance.now();
    const attemptedAt = new Date();
    const result = await this.send(row);
    const durationMs = Math.round(performance.now() - started);
    const outcome = afterAttempt(row.attempts, result, this.policy);
    const error = result.ok ? null : result.error.slice(0, 1000);
    const done = new Date();
    await this.deps.database.db.transaction(async (tx) => {
      await tx
        .insert(notificationDeliveries)
        .values({ outboxId: row.id, attempt: row.attempts, subscriptionId: row.subscription_id, attemptedAt, outcome, statusCode: result.status, error, durationMs })
        .onConflictDoNothing();
      await tx
        .update(notificationOutbox)
        .set(
          outcome === 'delivered'
            ? { state: 'delivered', deliveredAt: done, lastError: null }
            : outcome === 'failed'
              ? { state: 'failed', lastError: error }
              : { nextAttemptAt: new Date(done.getTime() + retryDelayMs(row.attempts, this.policy, (this.deps.random ?? Math.random)())), lastError: error },
        )
        // Only the attempt this pass claimed: a row claimed again since (a lease that ran out) is not ours.
        .where(and(eq(notificationOutbox.id, row.id), eq(notificationOutbox.attempts, row.attempts), eq(notificationOutbox.state, 'pending')));
    });
  }

  private async send(row: Claimed): Promise<AttemptResult> {
    // Checked again at every attempt: an origin taken off the list is no longer called.
    const refusal = callbackRefusal(row.url, this.deps.config.allowedOrigins);
    if (refusal) return { ok: false, status: null, error: `not sent: ${refusal}` };
    try {
      const res = await fetch(row.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Clearframe-Webhooks/1',
          'clearframe-event-id': row.id,
          'clearframe-event-type': row.event_type,
          'clearframe-signature': await signBody(this.deps.signer, row.body),
        },
        body: row.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.deps.config.timeoutMs),
      });
      await res.body?.cancel().catch(() => {});
      if (isDelivered(res.status)) return { ok: true, status: res.status };
      return { ok: false, status: res.status, error: `the receiver answered ${res.status}` };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const why = err.name === 'TimeoutError' ? `no answer within ${this.deps.config.timeoutMs} ms (WEBHOOK_TIMEOUT_MS)` : (err.cause?.code ?? err.cause?.message ?? err.message);
      return { ok: false, status: null, error: why };
    }
  }
}
