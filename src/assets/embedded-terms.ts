import { normalizeMimeType } from '../provenance/c2pa/formats.ts';
import { effectiveUse, extractTrainingMining } from '../provenance/c2pa/training-mining.ts';
import type { ManifestEngine } from '../provenance/c2pa/types.ts';
import type { TrainingMiningUse } from '../vocabulary/rights.ts';

export type EmbeddedTrainingMining = { c2pa: TrainingMiningUse | null; cawg: TrainingMiningUse | null };

const NONE: EmbeddedTrainingMining = { c2pa: null, cawg: null };

/**
 * What the art says about itself: the C2PA 1.x `c2pa.training-mining` and CAWG `cawg.training-mining`
 * assertions of every manifest in the file (ingredients' restrictions travel with them). For each, the
 * most restrictive of the AI-training uses. A restriction is honoured even from an untrusted manifest:
 * it can only narrow what the license allows. A file c2pa-rs cannot read simply says nothing.
 */
export async function readEmbeddedTrainingMining(engine: ManifestEngine, bytes: Uint8Array, mediaType: string): Promise<EmbeddedTrainingMining> {
  const mimeType = normalizeMimeType(mediaType);
  if (!mimeType) return NONE;
  let entries;
  try {
    entries = extractTrainingMining(await engine.read({ bytes, mimeType }), { scope: 'all' });
  } catch {
    return NONE;
  }
  const strictest = (ns: 'c2pa' | 'cawg'): TrainingMiningUse | null => {
    const mine = entries.filter((e) => e.assertionLabel === `${ns}.training-mining`);
    const uses = ['ai_training', 'ai_generative_training'].map((p) => effectiveUse(mine, p)).filter((u) => u !== undefined);
    return uses.includes('notAllowed') ? 'notAllowed' : uses.includes('constrained') ? 'constrained' : (uses[0] ?? null);
  };
  return { c2pa: strictest('c2pa'), cawg: strictest('cawg') };
}
