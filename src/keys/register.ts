import { inArray } from 'drizzle-orm';
import { recordedAs } from '../audit/event.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { Signer } from '../signing/signer.ts';
import { serviceKeys } from './tables.ts';

const SYSTEM = { sub: 'clearframe', role: 'system' };

/**
 * Records each key's public half the first time the service runs with it, as an audit event,
 * so that the log itself says which keys signed what from which point on.
 */
export async function registerKeys(ledger: Ledger, keys: { purpose: string; signer: Signer }[]): Promise<string[]> {
  const known = await ledger.db
    .select({ kid: serviceKeys.kid })
    .from(serviceKeys)
    .where(
      inArray(
        serviceKeys.kid,
        keys.map((k) => k.signer.kid),
      ),
    );
  const seen = new Set(known.map((k) => k.kid));
  const added: string[] = [];
  for (const { purpose, signer } of keys) {
    if (seen.has(signer.kid)) continue;
    const registered = await ledger.change(SYSTEM, async ({ tx, record }) => {
      const rows = await tx
        .select()
        .from(serviceKeys)
        .where(inArray(serviceKeys.kid, [signer.kid]));
      if (rows.length > 0) return false; // another process registered it first
      const event = record({ action: 'key.created', subjectId: signer.kid, content: { purpose, alg: signer.alg, publicJwk: signer.publicJwk } });
      await tx.insert(serviceKeys).values({
        kid: signer.kid,
        purpose,
        publicJwk: signer.publicJwk,
        ...recordedAs(event, 'createdAt'),
      });
      return true;
    });
    if (registered) added.push(signer.kid);
  }
  return added;
}
