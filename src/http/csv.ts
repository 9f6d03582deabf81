// RFC 4180 CSV, pure: what list endpoints answer for `Accept: text/csv` (licenses, outputs, tuning jobs,
// avails, imports), so every CSV the service writes quotes and ends lines the same way.

/** A cell: text as is, numbers and booleans as written, null and undefined empty, arrays joined by `;`. */
export type CsvCell = string | number | boolean | null | undefined | readonly (string | number)[];

/** A column: its header and how a row gives its cell. The array order is the column order. */
export type CsvColumn<T> = { header: string; cell: (row: T) => CsvCell };

export const CSV_MEDIA_TYPE = 'text/csv; charset=utf-8; header=present';

/** One field, quoted when it holds a comma, a quote, CR or LF (or starts or ends with a space), quotes doubled. */
export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  const text = Array.isArray(value) ? value.join(';') : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The header row and one record per row, each line ended by CRLF (RFC 4180 section 2). */
export function toCsv<T>(columns: readonly CsvColumn<T>[], rows: readonly T[]): string {
  const line = (cells: CsvCell[]) => `${cells.map(csvField).join(',')}\r\n`;
  return line(columns.map((c) => c.header)) + rows.map((r) => line(columns.map((c) => c.cell(r)))).join('');
}

/** Whether the request's Accept header asks for CSV rather than JSON (text/csv named before application/json). */
export function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept
    .toLowerCase()
    .split(',')
    .map((part) => {
      const [type, ...params] = part.split(';').map((s) => s.trim());
      const q = params.find((p) => p.startsWith('q='));
      return { type: type ?? '', q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((t) => t.q > 0);
  const csv = types.find((t) => t.type === 'text/csv');
  if (!csv) return false;
  const json = types.find((t) => t.type === 'application/json');
  return !json || csv.q >= json.q;
}

/** Parses RFC 4180 text back into records (the tests read answers back with it; clients may too). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
      i++;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += ch;
    i++;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** A page of rows as a CSV answer; the next page's cursor, if any, in `Clearframe-Next-Cursor`. */
export function csvResponse<T>(columns: readonly CsvColumn<T>[], page: { items: readonly T[]; nextCursor: string | null }): Response {
  const headers: Record<string, string> = { 'content-type': CSV_MEDIA_TYPE, vary: 'accept' };
  if (page.nextCursor) headers['clearframe-next-cursor'] = page.nextCursor;
  return new Response(toCsv(columns, page.items), { status: 200, headers });
}
