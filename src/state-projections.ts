import { assetProjections } from './assets/replay.ts';
import type { StateProjection } from './audit/state-check.ts';
import { checkState } from './audit/state-replay.ts';
import { checkpointProjections } from './checkpoints/replay.ts';
import { datasetProjections } from './datasets/replay.ts';
import type { Queryable } from './db/database.ts';
import { gateProjections } from './gate/replay.ts';
import { keyProjections } from './keys/replay.ts';
import { licenseProjections } from './licenses/replay.ts';
import { outputProjections } from './outputs/replay.ts';
import { tuningProjections } from './tuning/replay.ts';

/**
 * Every state table a decision reads (the gate, the generation gate, standing, verification, the rights
 * chain), each as its capability projects it from the log: what `audit verify` replays.
 */
export function stateProjections(q: Queryable): StateProjection[] {
  return [
    ...keyProjections(q),
    ...assetProjections(q),
    ...licenseProjections(q),
    ...datasetProjections(q),
    ...gateProjections(q),
    ...checkpointProjections(q),
    ...tuningProjections(q),
    ...outputProjections(q),
  ];
}

/** The state tables replayed from the log: the first row that disagrees with the events, if any. */
export function verifyState(q: Queryable, opts: { window?: number } = {}) {
  return checkState(q, stateProjections(q), opts);
}
