import { eq } from 'drizzle-orm';
import { contentOf, type StateProjection } from '../audit/state-check.ts';
import { tableProjection } from '../audit/state-rows.ts';
import type { Queryable } from '../db/database.ts';
import { serviceKeys } from './tables.ts';

/** The service's registered keys, as their `key.created` entries state them (audit/state-replay.ts). */
export function keyProjections(q: Queryable): StateProjection[] {
  return [
    tableProjection(q, serviceKeys, {
      name: 'service_keys',
      index: serviceKeys.auditIndex,
      key: (r) => r.kid,
      byKey: (k) => eq(serviceKeys.kid, k),
      expect(event) {
        if (event.action !== 'key.created') return [];
        const c = contentOf(event);
        return [{ key: event.subjectId, values: { kid: event.subjectId, purpose: c.purpose, publicJwk: c.publicJwk, createdAt: new Date(event.time), auditIndex: event.index } }];
      },
    }),
  ];
}
