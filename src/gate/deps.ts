import type { Ledger } from '../audit/ledger.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Config } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import type { Keyring } from '../signing/keyring.ts';
import type { PolicyRegistry } from './policy-registry.ts';

/** What the training gate needs from the running service. */
export type GateDeps = {
  config: Config;
  database: Database;
  keyring: Keyring;
  ledger: Ledger;
  policies: PolicyRegistry;
  verifyToken: TokenVerifier;
};
