import type { Logger } from 'pino';
import type { Ledger } from '../audit/ledger.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Config } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import type { PolicyRegistry } from '../gate/policy-registry.ts';
import type { TimestampAuthority } from '../provenance/c2pa/tsa-client.ts';
import type { ManifestEngine } from '../provenance/c2pa/types.ts';
import type { Keyring } from '../signing/keyring.ts';

/** What signing and verifying outputs need from the running service. */
export type OutputDeps = {
  config: Config;
  database: Database;
  ledger: Ledger;
  /** The policies in force: an output's source art is cleared by the gate's `derive` decision. */
  policies: PolicyRegistry;
  keyring: Keyring;
  c2pa: ManifestEngine;
  timestampAuthority: TimestampAuthority | null;
  logger: Logger;
  verifyToken: TokenVerifier;
};
