/**
 * RFC 4180 CSV, read and written without I/O. Reading takes what spreadsheets really save: UTF-8 with or
 * without a byte-order mark, CRLF or LF line ends, quoted fields holding commas, quotes ("") and line
 * breaks. A quote that opens a field must close it; a stray quote inside an unquoted field is kept as text
 * (Excel writes none, but hand-edited sheets have them).
 */

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

export function parseCsv(input: string): CsvRecord[] {
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

/** One field as RFC 4180 writes it: quoted when it holds a comma, a quote, a line break or edge spaces. */
export function csvField(value: string): string {
  // A leading =, +, - or @ would be read as a formula by a spreadsheet opening the error file.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]|^\s|\s$/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvField).join(',')}\r\n`;
}
