/**
 * What became of the file's own C2PA manifest at registration:
 *   - `none`: the file carries none that c2pa-rs sees (or the format cannot carry one, or no file was sent:
 *     a registration by hash);
 *   - `valid`: it validates (an untrusted signing credential is fine here: trust is not integrity);
 *   - `invalid`: c2pa-rs read it, and its integrity fails (a signature, a hash, a claim that does not hold);
 *   - `damaged`: a manifest store is there and cannot be parsed;
 *   - `unreadable`: c2pa-rs could not read the file at all, so whether it carries terms is unknown.
 * The last three deny training and derivative use until legal records an override (policies/c2pa.cedar).
 */
export const EMBEDDED_MANIFEST_STATES = ['none', 'valid', 'invalid', 'damaged', 'unreadable'] as const;
export type EmbeddedManifestState = (typeof EMBEDDED_MANIFEST_STATES)[number];
/** The states in which the file's own terms cannot be known, and legal may override. */
export const UNVERIFIED_MANIFEST_STATES: readonly EmbeddedManifestState[] = ['invalid', 'damaged', 'unreadable'];
