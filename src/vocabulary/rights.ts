/**
 * The rights vocabulary, declared once: the values a license grants, the values art signals about its own
 * use for training (C2PA and CAWG training-mining assertions), and the purposes a vendor trains for. Every
 * layer speaks these words, from the C2PA adapter up to the rights chain, so they sit below all of them.
 * (Media are free text, as licenses name them: `theatrical`, `streaming`, ...)
 */

/** What a license says of one use: granted, refused, or granted only with legal's recorded approval. */
export const GRANT_VALUES = ['allowed', 'notAllowed', 'requiresApproval'] as const;
export type Grant = (typeof GRANT_VALUES)[number];

/** The uses a license grants or refuses. */
export const GRANT_NAMES = ['training', 'derivatives', 'commercial'] as const;
export type GrantName = (typeof GRANT_NAMES)[number];

/** A training-mining assertion's `use` (C2PA `c2pa.training-mining`, CAWG `cawg.training-mining`). */
export const TRAINING_MINING_USES = ['allowed', 'notAllowed', 'constrained'] as const;
export type TrainingMiningUse = (typeof TRAINING_MINING_USES)[number];

/** What a vendor asks to train for. */
export const TRAINING_PURPOSES = ['fine-tune', 'evaluation'] as const;
export type TrainingPurpose = (typeof TRAINING_PURPOSES)[number];

/** `value` is one of `values` (a vocabulary list above), narrowed to its type. */
export function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value);
}
