import { eq } from 'drizzle-orm';
import { contentOf, entryExpect, type StateProjection } from '../audit/state-check.ts';
import { tableProjection } from '../audit/state-rows.ts';
import type { Queryable } from '../db/database.ts';
import { assets } from './tables.ts';

/**
 * Registered art as the log's events state it (audit/state-replay.ts). `seq` is not compared: it orders
 * listings, no decision reads it, and the database assigns it.
 */
export function assetProjections(q: Queryable): StateProjection[] {
  return [
    tableProjection(q, assets, {
      name: 'assets',
      index: assets.auditIndex,
      key: (r) => r.id,
      byKey: (k) => eq(assets.id, k),
      expect(event) {
        if (event.action !== 'asset.registered') return [];
        const c = contentOf(event);
        return [
          {
            key: String(c.id),
            values: {
              id: c.id,
              sha256: c.sha256,
              title: c.title,
              mediaType: c.mediaType,
              creator: c.creator,
              production: c.production,
              sourceUri: c.sourceUri,
              rightsHolder: c.rightsHolder,
              byteSize: c.byteSize,
              c2paTrainingMining: c.c2paTrainingMining,
              cawgTrainingMining: c.cawgTrainingMining,
              derivedFromOutputId: c.derivedFromOutputId,
              ...entryExpect(event),
            },
          },
        ];
      },
    }),
  ];
}
