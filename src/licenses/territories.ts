// The territory codes live in the vocabulary (assets filter by them too); licenses keep this name for them.
export { isTerritory, WORLD } from '../vocabulary/territories.ts';
