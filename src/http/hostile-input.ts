/**
 * What makes request text unstorable or unreadable, found before it reaches a service (pure, no I/O).
 * PostgreSQL `text` and `jsonb` refuse U+0000, and a lone surrogate is not Unicode (it has no UTF-8
 * form): both failed deep in the database as a 500. A body is also refused when it is not UTF-8 or
 * nests deeper than any request schema does (a deep one costs parse time and stack, not content).
 */
import type { FieldError } from './problem.ts';

/** Deeper than any request schema of this API (the deepest nests about 4): refused before parsing. */
export const MAX_JSON_DEPTH = 32;

/** The digits of a pagination cursor: an index that fits a JavaScript number exactly (below 2^53). */
export const MAX_CURSOR_DIGITS = 15;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored, or undefined when it can. */
export function textFault(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000), which text cannot hold';
  if (LONE_SURROGATE.test(s)) return 'contains a lone surrogate (such as \\ud800), which is not Unicode text';
  return undefined;
}

/** The first string (value or key) in a parsed JSON value that cannot be stored, named by its path. */
export function jsonTextFault(value: unknown): FieldError | undefined {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      const fault = textFault(v);
      if (fault) return { field: path.join('.') || '(body)', message: fault };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, String(i)] });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const fault = textFault(k);
        if (fault) return { field: [...path, k].join('.'), message: `its name ${fault}` };
        stack.push({ value: child, path: [...path, k] });
      }
    }
  }
  return undefined;
}

/** True when the JSON text nests arrays and objects deeper than `max` (strings are skipped, not counted). */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as text, or undefined when they are not UTF-8 (never replaced by U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The first query parameter that cannot be used: unstorable text in its name or value, or a `cursor`
 * longer than any this API hands out (`cursor` is the API's one pagination parameter name).
 */
export function queryFault(params: Iterable<[string, string]>): FieldError | undefined {
  for (const [name, value] of params) {
    const fault = textFault(name) ?? textFault(value);
    if (fault) return { field: name, message: fault };
    if (name === 'cursor' && value.length > MAX_CURSOR_DIGITS) return { field: name, message: 'not a cursor from this API' };
  }
  return undefined;
}
