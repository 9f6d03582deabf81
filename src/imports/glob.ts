/**
 * Paths in the terms sheet, relative to the imported folder, `/`-separated: a plain path names one file;
 * `*` matches within one folder level, `**` across levels, `?` one character, `[abc]` one of a set, `{a,b}`
 * one of the alternatives. Matching is exact in case (file systems that fold case still store a case).
 */

export const isGlob = (p: string) => /[*?[{]/.test(p);

/** Why a sheet path cannot be used, or undefined. */
export function globProblem(p: string): string | undefined {
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'must be relative to the folder';
  if (p.split('/').some((s) => s === '..')) return 'must not leave the folder (..)';
  try {
    globRegExp(p);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

export function globRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more folders; a trailing `**` anything below.
        if (glob[i + 2] === '/') {
          re += '(?:[^/]+/)*';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) throw new Error(`an unclosed [ in ${glob}`);
      let set = glob.slice(i + 1, close);
      const negate = set.startsWith('!') || set.startsWith('^');
      if (negate) set = set.slice(1);
      re += `[${negate ? '^' : ''}${set.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else if (ch === '{') {
      braces++;
      re += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (ch === ',' && braces > 0) re += '|';
    else re += ch.replace(/[.+^$()|\\]/g, '\\$&');
  }
  if (braces > 0) throw new Error(`an unclosed { in ${glob}`);
  return new RegExp(`^${re}$`);
}

/** Matches file paths against the sheet's rows: exact paths by lookup, globs by their expressions. */
export class PathMatcher<T extends { path: string }> {
  private readonly exact = new Map<string, { at: number; row: T }[]>();
  private readonly globs: { at: number; re: RegExp; row: T }[] = [];

  constructor(rows: readonly T[]) {
    rows.forEach((row, at) => {
      if (isGlob(row.path)) this.globs.push({ at, re: globRegExp(row.path), row });
      else {
        const same = this.exact.get(row.path);
        if (same) same.push({ at, row });
        else this.exact.set(row.path, [{ at, row }]);
      }
    });
  }

  /** Every row naming this file, in sheet order. */
  match(file: string): T[] {
    const found = [...(this.exact.get(file) ?? [])];
    for (const g of this.globs) if (g.re.test(file)) found.push(g);
    return found.sort((a, b) => a.at - b.at).map((f) => f.row);
  }
}
