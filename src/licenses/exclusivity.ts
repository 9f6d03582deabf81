/**
 * When two exclusive grants collide: the pure rule behind the 409 of a conflicting license version
 * (licenses/service.ts). No I/O, no clock.
 *
 * Two grants overlap when they share territory, medium AND part of their term. Territories are ISO 3166-1
 * alpha-2 codes or WORLD (which meets every territory); media are compared as written, as the gate's
 * policies compare them (`context.license.media.contains(...)`); a term covers its start up to its end
 * (exclusive), as the gate reads it, so a term ending the instant another starts does not overlap it.
 */
import { WORLD } from './territories.ts';

export type ExclusiveTerms = {
  licensee: string;
  territories: readonly string[];
  media: readonly string[];
  term: { start: Date; end: Date };
};

/** The territories both lists cover: WORLD meets everything (WORLD with WORLD is WORLD). */
export function sharedTerritories(a: readonly string[], b: readonly string[]): string[] {
  const aWorld = a.includes(WORLD);
  const bWorld = b.includes(WORLD);
  if (aWorld && bWorld) return [WORLD];
  if (aWorld) return [...new Set(b)];
  if (bWorld) return [...new Set(a)];
  const inB = new Set(b);
  return [...new Set(a.filter((t) => inB.has(t)))];
}

export function sharedMedia(a: readonly string[], b: readonly string[]): string[] {
  const inB = new Set(b);
  return [...new Set(a.filter((m) => inB.has(m)))];
}

/** Half-open intervals [start, end) meet when each starts before the other ends. */
export function termsOverlap(a: { start: Date; end: Date }, b: { start: Date; end: Date }): boolean {
  return a.start.getTime() < b.end.getTime() && b.start.getTime() < a.end.getTime();
}

export type ExclusivityOverlap = { territories: string[]; media: string[]; term: { start: Date; end: Date } };

/** Where the two grants overlap, or null when they do not (in territory, medium or term). */
export function exclusiveOverlap(a: ExclusiveTerms, b: ExclusiveTerms): ExclusivityOverlap | null {
  if (!termsOverlap(a.term, b.term)) return null;
  const territories = sharedTerritories(a.territories, b.territories);
  if (territories.length === 0) return null;
  const media = sharedMedia(a.media, b.media);
  if (media.length === 0) return null;
  const start = Math.max(a.term.start.getTime(), b.term.start.getTime());
  const end = Math.min(a.term.end.getTime(), b.term.end.getTime());
  return { territories, media, term: { start: new Date(start), end: new Date(end) } };
}

/**
 * Whether recording `proposed` (a version that grants exclusivity) conflicts with `standing`, an exclusive
 * grant already standing on the same asset: only a grant to ANOTHER licensee does (a licensee's own
 * licenses cannot take exclusivity from it), and only where they overlap.
 */
export function exclusivityConflict(proposed: ExclusiveTerms, standing: ExclusiveTerms): ExclusivityOverlap | null {
  if (proposed.licensee === standing.licensee) return null;
  return exclusiveOverlap(proposed, standing);
}
