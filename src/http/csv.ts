// RFC 4180 CSV, pure: what list endpoints answer for `Accept: text/csv` (licenses, outputs, tuning jobs,
// avails, imports), so every CSV the service writes quotes and ends lines the same way.

/** A cell: text as is, numbers and booleans as written, null and undefined empty, arrays joined by `;`. */
export type CsvCell = string | number | boolean | null | undefined | readonly (string | number)[];

/** A column: its header and how a row gives its cell. The array order is the column order. */
export type CsvColumn<T> = { header: string; cell: (row: T) => CsvCell };

export const CSV_MEDIA_TYPE = 'text/csv; charset=utf-8; header=present';

/**
 * One field, quoted when it holds a comma, a quote, CR or LF (or starts or ends with a space), quotes
 * doubled. Text that a spreadsheet would run as a formula (a leading =, +, -, @, tab or CR: OWASP's CSV
 * injection) is written after an apostrophe, which spreadsheets show as text; numbers are written as they are.
 */
export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  const raw = Array.isArray(value) ? value.join(';') : String(value);
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, its line ended by CRLF (RFC 4180 section 2). */
export function csvLine(cells: readonly CsvCell[]): string {
  return `${cells.map(csvField).join(',')}\r\n`;
}

/** The header row and one record per row, each line ended by CRLF (RFC 4180 section 2). */
export function toCsv<T>(columns: readonly CsvColumn<T>[], rows: readonly T[]): string {
  return csvLine(columns.map((c) => c.header)) + rows.map((r) => csvLine(columns.map((c) => c.cell(r)))).join('');
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

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

/** A parsed record with the line of the sheet it starts on (1-based, as a spreadsheet numbers rows). */
export type CsvRecord = { line: number; cells: string[] };

/**
 * Reads what spreadsheets really save: UTF-8 with or without a byte-order mark, CRLF or LF line ends, quoted
 * fields holding commas, quotes ("") and line breaks. A quote that opens a field must close it; a stray quote
 * inside an unquoted field is kept as text (Excel writes none, but hand-edited sheets have them).
 */
export function readCsv(input: string): CsvRecord[] {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  let quoted = false;
  let cellStarted = false;
  const endCell = () => {
    cells.push(cell);
    cell = '';
    cellStarted = false;
  };
  const endRecord = () => {
    endCell();
    // A blank line is no record: a sheet saved with a trailing newline (or blank rows) has none.
    if (!(cells.length === 1 && cells[0] === '')) records.push({ line: recordLine, cells });
    cells = [];
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        // After a closing quote only a separator or a line end may follow.
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') throw new CsvSyntaxError('text after a closing quote', line);
        continue;
      }
      if (ch === '\n') line++;
      cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && !cellStarted) {
      quoted = true;
      cellStarted = true;
      i++;
      continue;
    }
    if (ch === ',') {
      endCell();
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    cell += ch;
    cellStarted = true;
    i++;
  }
  if (quoted) throw new CsvSyntaxError('a quoted field is never closed', recordLine);
  if (cell !== '' || cells.length > 0) endRecord();
  return records;
}

/** The records' cells alone (the tests read answers back with it; clients may too). */
export function parseCsv(text: string): string[][] {
  return readCsv(text).map((r) => r.cells);
}

/** A page of rows as a CSV answer; the next page's cursor, if any, in `Clearframe-Next-Cursor`. */
export function csvResponse<T>(columns: readonly CsvColumn<T>[], page: { items: readonly T[]; nextCursor: string | null }): Response {
  const headers: Record<string, string> = { 'content-type': CSV_MEDIA_TYPE, vary: 'accept' };
  if (page.nextCursor) headers['clearframe-next-cursor'] = page.nextCursor;
  return new Response(toCsv(columns, page.items), { status: 200, headers });
}
