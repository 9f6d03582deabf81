/**
 * Training-and-data-mining assertions.
 *
 * - C2PA 1.x: label `c2pa.training-mining`, entry keys `c2pa.ai_training`,
 *   `c2pa.ai_generative_training`, `c2pa.data_mining`, `c2pa.ai_inference`.
 * - CAWG (successor, used with C2PA 2.x): label `cawg.training-mining`, keys
 *   `cawg.ai_training`, `cawg.ai_generative_training`, `cawg.data_mining`,
 *   `cawg.ai_inference`.
 *
 * Both: `{ entries: { <key>: { use: 'allowed'|'notAllowed'|'constrained', constraint_info?: string } } }`.
 */

import { isOneOf, TRAINING_MINING_USES, type TrainingMiningUse } from '../../vocabulary/rights.ts';
import type { AssertionDefinition, ManifestJson, ReadResult, TrainingMiningEntry } from './types.ts';

export const TRAINING_MINING_LABELS = ['c2pa.training-mining', 'cawg.training-mining'] as const;
export type TrainingMiningLabel = (typeof TRAINING_MINING_LABELS)[number];

export const TRAINING_MINING_KEYS = {
  c2pa: ['c2pa.ai_training', 'c2pa.ai_generative_training', 'c2pa.data_mining', 'c2pa.ai_inference'],
  cawg: ['cawg.ai_training', 'cawg.ai_generative_training', 'cawg.data_mining', 'cawg.ai_inference'],
} as const;

export interface TrainingMiningPermission {
  use: TrainingMiningUse;
  constraintInfo?: string;
}

/**
 * Build a training-mining assertion. `entries` keys may be given short
 * (`ai_training`) or fully qualified (`cawg.ai_training`).
 */
export function trainingMiningAssertion(namespace: 'c2pa' | 'cawg', entries: Record<string, TrainingMiningPermission>): AssertionDefinition {
  const data: Record<string, { use: TrainingMiningUse; constraint_info?: string }> = {};
  for (const [key, perm] of Object.entries(entries)) {
    const fullKey = key.includes('.') ? key : `${namespace}.${key}`;
    if (!isOneOf(TRAINING_MINING_USES, perm.use)) throw new Error(`invalid training-mining use: ${String(perm.use)}`);
    data[fullKey] = {
      use: perm.use,
      ...(perm.constraintInfo !== undefined ? { constraint_info: perm.constraintInfo } : {}),
    };
  }
  return { label: `${namespace}.training-mining`, data: { entries: data } };
}

/** Every standard key of the namespace set to notAllowed. */
export function allNotAllowed(namespace: 'c2pa' | 'cawg'): AssertionDefinition {
  const entries: Record<string, TrainingMiningPermission> = {};
  for (const k of TRAINING_MINING_KEYS[namespace]) entries[k] = { use: 'notAllowed' };
  return trainingMiningAssertion(namespace, entries);
}

/** `cawg.training-mining__1` → `cawg.training-mining` (c2pa-rs instance suffix). */
function baseLabel(label: string): string {
  return label.replace(/__\d+$/, '');
}

function entriesOf(manifest: ManifestJson, manifestLabel: string): TrainingMiningEntry[] {
  const out: TrainingMiningEntry[] = [];
  for (const assertion of manifest.assertions ?? []) {
    const label = baseLabel(assertion.label);
    if (!(TRAINING_MINING_LABELS as readonly string[]).includes(label)) continue;
    const entries = (assertion.data as { entries?: unknown } | null)?.entries;
    if (!entries || typeof entries !== 'object') continue;
    for (const [key, value] of Object.entries(entries as Record<string, unknown>)) {
      const v = value as { use?: unknown; constraint_info?: unknown } | null;
      if (!v || typeof v.use !== 'string' || !isOneOf(TRAINING_MINING_USES, v.use)) continue;
      out.push({
        assertionLabel: label as TrainingMiningLabel,
        key,
        use: v.use as TrainingMiningUse,
        ...(typeof v.constraint_info === 'string' ? { constraintInfo: v.constraint_info } : {}),
        manifestLabel,
      });
    }
  }
  return out;
}

/**
 * Training-mining entries of the active manifest (default) or of every manifest
 * in the store (`scope: 'all'`, e.g. to honour ingredients' restrictions).
 * Returns [] for 'no manifest'.
 */
export function extractTrainingMining(result: ReadResult, opts: { scope?: 'active' | 'all' } = {}): TrainingMiningEntry[] {
  if (result.kind !== 'manifest') return [];
  if (opts.scope === 'all') {
    return Object.entries(result.manifests).flatMap(([label, m]) => entriesOf(m, label));
  }
  return entriesOf(result.activeManifest, result.activeManifestLabel);
}

/**
 * Most restrictive use for a purpose across entries: any notAllowed wins,
 * then constrained, then allowed; undefined when nothing says anything.
 * `purpose` is the unqualified key, e.g. 'ai_generative_training'.
 */
export function effectiveUse(entries: readonly TrainingMiningEntry[], purpose: string): TrainingMiningUse | undefined {
  const relevant = entries.filter((e) => e.key.endsWith(`.${purpose}`) || e.key === purpose);
  if (relevant.some((e) => e.use === 'notAllowed')) return 'notAllowed';
  if (relevant.some((e) => e.use === 'constrained')) return 'constrained';
  if (relevant.some((e) => e.use === 'allowed')) return 'allowed';
  return undefined;
}
