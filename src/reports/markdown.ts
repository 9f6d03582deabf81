/**
 * Markdown written from ledger values: pure, no I/O. A title, a reason or a licensee is text someone typed;
 * it must never become structure (a heading, a table cell, a link, HTML) in a document legal attaches to a
 * contract. Every value goes through `text` (inline, one line) or `code` (a code span); the renderers write
 * the structure themselves.
 */

// Inline structure only: a value is never written at the start of a line (it follows a label, a list
// marker or a cell border), so the characters that open blocks (-, +, 1.) need no escape there.
const MARKDOWN_PUNCTUATION = /[\\`*_[\]|~#]/g;

/** Line breaks as one space each run, other control characters dropped: a value stays on its line. */
function oneLine(s: string): string {
  let out = '';
  let broke = false;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const isBreak = c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
    if (isBreak) {
      if (!broke) out += ' ';
      broke = true;
      continue;
    }
    broke = false;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) continue;
    out += ch;
  }
  return out;
}

/** A ledger value as inline Markdown text on one line: HTML as entities, inline Markdown punctuation escaped, line breaks as spaces. */
export function text(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  return oneLine(String(value))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(MARKDOWN_PUNCTUATION, (c) => `\\${c}`);
}

/**
 * A value as a code span (ids, digests): fenced with more backticks than any run inside it, on one line.
 * A `|` is escaped even here, since a GFM table splits cells before it reads code spans.
 */
export function code(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const s = oneLine(String(value)).replace(/\|/g, '\\|');
  const longest = Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') || (s.startsWith(' ') && s.endsWith(' ')) ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A GFM table: the header and cells are written as given (each already through `text` or `code`). */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c || '—').join(' | ')} |`;
  return [line(head), `|${head.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

/** A list of `label: value` items; labels are the renderer's own words, values already escaped. */
export function facts(rows: readonly [string, string][]): string {
  return rows.map(([k, v]) => `- **${k}:** ${v}`).join('\n');
}

/** An ISO instant as a readable UTC time, escaped. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return text(iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'));
}

/** Blocks joined by one blank line, the document ending in a newline. */
export function blocks(parts: readonly (string | null | undefined | false)[]): string {
  return `${parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join('\n\n')}\n`;
}
