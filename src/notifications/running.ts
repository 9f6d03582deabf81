import type { Logger } from 'pino';
import type { Ledger } from '../audit/ledger.ts';
import type { Config } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import type { Signer } from '../signing/signer.ts';
import { checkLicenseEnding, outboxHook, WATCHED_ACTIONS } from './outbox.ts';
import { DeliveryWorker } from './worker.ts';

/** Notifications in a running service: the delivery worker (null when no origin is allowed) and the ending check. */
export type Notifications = {
  worker: DeliveryWorker | null;
  /** One `license.ending` check now (also what the periodic check runs); the outbox rows written. */
  checkLicenseEnding(now?: Date): Promise<number>;
  stop(): Promise<void>;
};

/**
 * Has the ledger write outbox rows in the transactions that cause them, and, when WEBHOOK_ALLOWED_ORIGINS
 * names any origin, starts the worker and the periodic `license.ending` check.
 */
export function startNotifications(deps: { config: Config; database: Database; ledger: Ledger; signer: Signer; logger: Logger }): Notifications {
  deps.ledger.watch(WATCHED_ACTIONS, outboxHook());
  const c = deps.config.notifications;
  const enabled = c.allowedOrigins.length > 0;
  const worker = enabled ? new DeliveryWorker({ database: deps.database, signer: deps.signer, config: c, logger: deps.logger }) : null;
  worker?.start();
  const check = (now?: Date) => checkLicenseEnding(deps.database.db, now);
  let checking: Promise<unknown> = Promise.resolve();
  const timer =
    enabled && c.endingCheckSeconds > 0
      ? setInterval(() => {
          checking = check().then(
            (n) => n > 0 && deps.logger.info({ notifications: n }, 'license.ending notifications written'),
            (err: unknown) => deps.logger.error({ err: (err as Error).message }, 'license.ending check failed'),
          );
        }, c.endingCheckSeconds * 1000)
      : undefined;
  timer?.unref();
  return {
    worker,
    checkLicenseEnding: check,
    async stop() {
      clearInterval(timer);
      await worker?.stop();
      await checking.catch(() => {});
    },
  };
}
