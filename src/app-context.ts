import type { Logger } from 'pino';
import type { Ledger } from './audit/ledger.ts';
import type { TokenVerifier } from './auth/tokens.ts';
import type { Config } from './config/config.ts';
import type { Database } from './db/database.ts';
import type { PolicyRegistry } from './gate/policy-registry.ts';
import type { Notifications } from './notifications/running.ts';
import type { TimestampAuthority } from './provenance/c2pa/tsa-client.ts';
import type { ManifestEngine } from './provenance/c2pa/types.ts';
import type { Keyring } from './signing/keyring.ts';
import type { TuningBackend } from './tuning/vertex.ts';

/** What the running service is made of; built once at start-up, handed to every capability. */
export type AppContext = {
  config: Config;
  database: Database;
  ledger: Ledger;
  keyring: Keyring;
  verifyToken: TokenVerifier;
  logger: Logger;
  policies: PolicyRegistry;
  /** c2pa-rs (WebAssembly): reads and signs C2PA manifests. */
  c2pa: ManifestEngine;
  /** RFC 3161 time-stamp authority for output signatures (TSA_URL); null: outputs carry no time-stamp. */
  timestampAuthority: TimestampAuthority | null;
  /** Vertex AI tuning, when configured. */
  tuning: { backend: TuningBackend; project: string; location: string } | null;
  /** Webhook notifications: the delivery worker and the license.ending check. */
  notifications: Notifications;
};
