import type { Logger } from 'pino';
import type { Principal } from '../auth/tokens.ts';

/** Per-request values every route can read. */
export type AppEnv = {
  Variables: {
    requestId: string;
    logger: Logger;
    principal: Principal;
  };
};
