import * as XLSX from '@e965/xlsx';
import { CsvSyntaxError, readCsv as parseCsv } from '../http/csv.ts';
import { LicenseCreate } from '../licenses/schemas.ts';
import { isTerritory } from '../licenses/territories.ts';
import { GRANT_VALUES, type Grant, isOneOf } from '../vocabulary/rights.ts';
import { globProblem } from './glob.ts';

/**
 * The terms sheet, without I/O: its bytes (CSV or XLSX) to rows, each row checked into the terms it gives
 * the files it names. Every problem is kept with the row and the column it is in, so that the error file
 * can hand the failing rows back to whoever filled the sheet.
 */

/** The columns, as the template names them; a header matches one without regard to case and spaces. */
export const COLUMNS = [
  'path',
  'title',
  'creator',
  'rightsHolder',
  'licensor',
  'licensee',
  'vendors',
  'training',
  'derivatives',
  'commercial',
  'territories',
  'media',
  'termStart',
  'termEnd',
  'exclusivity',
  'attribution',
  'contractId',
  'contractSha256',
] as const;
export type Column = (typeof COLUMNS)[number];

/** Columns a row of license terms must fill (the others may stay blank). */
const LICENSE_REQUIRED: readonly Column[] = ['licensor', 'licensee', 'training', 'derivatives', 'commercial', 'territories', 'media', 'termStart', 'termEnd', 'exclusivity'];
const LICENSE_COLUMNS: readonly Column[] = [...LICENSE_REQUIRED, 'vendors', 'attribution', 'contractId', 'contractSha256'];

/** A license as POST /v1/assets/{id}/licenses takes it (LicenseCreate). */
export type LicenseTerms = {
  licensor: string;
  licensee: string;
  vendors: string[];
  grants: { training: Grant; derivatives: Grant; commercial: Grant };
  territories: string[];
  media: string[];
  term: { start: string; end: string };
  exclusivity: boolean;
  attribution?: string;
  contractRef?: { id: string; sha256: string };
};

export type RowTerms = {
  /** The sheet's line (its header is line 1). */
  line: number;
  path: string;
  title: string | null;
  creator: string;
  rightsHolder: string | null;
  /** null: the row registers the art without a license. */
  license: LicenseTerms | null;
};

export type RowProblem = { line: number; column: string; message: string };

export type ParsedSheet = {
  /** The header as written, for the error file. */
  header: string[];
  /** Each row's cells as written, by line. */
  cells: Map<number, string[]>;
  /** Rows whose every cell checked out. */
  rows: RowTerms[];
  /** Lines with at least one problem (none of their files is imported). */
  problems: RowProblem[];
};

/** The end a term without end gets: `perpetuity` in the sheet. */
export const PERPETUITY = '9999-12-31T23:59:59Z';

export const normalizeHeader = (h: string) => h.replace(/\s+/g, '').toLowerCase();
const BY_HEADER = new Map(COLUMNS.map((c) => [c.toLowerCase(), c]));

export class SheetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SheetError';
  }
}

/** CSV or XLSX by its name (or by its bytes: an XLSX is a zip, "PK"). */
export function sheetKind(name: string, bytes: Uint8Array): 'csv' | 'xlsx' {
  if (/\.xlsx$/i.test(name)) return 'xlsx';
  if (/\.csv$/i.test(name)) return 'csv';
  return bytes[0] === 0x50 && bytes[1] === 0x4b ? 'xlsx' : 'csv';
}

/** The sheet's records (header first), each with its line. */
export function sheetRecords(name: string, bytes: Uint8Array): { line: number; cells: string[] }[] {
  if (sheetKind(name, bytes) === 'xlsx') return xlsxRecords(bytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SheetError(`${name} is not UTF-8 text: save the sheet as CSV UTF-8 (or XLSX)`);
  }
  try {
    return parseCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new SheetError(`${name} is not valid CSV (RFC 4180): ${e.message}`);
    throw e;
  }
}

/** The first sheet of a workbook: dates as ISO dates, booleans and numbers as their text. */
function xlsxRecords(bytes: Uint8Array): { line: number; cells: string[] }[] {
  let book: XLSX.WorkBook;
  try {
    book = XLSX.read(bytes, { type: 'array', cellDates: true, cellFormula: false, cellHTML: false });
  } catch (e) {
    throw new SheetError(`the workbook cannot be read: ${(e as Error).message}`);
  }
  const first = book.SheetNames[0];
  if (!first) throw new SheetError('the workbook has no sheet');
  const sheet = book.Sheets[first]!;
  const ref = sheet['!ref'];
  if (!ref) return [];
  const range = XLSX.utils.decode_range(ref);
  const records: { line: number; cells: string[] }[] = [];
  for (let r = range.s.r; r <= range.e.r; r++) {
    const cells: string[] = [];
    for (let c = range.s.c; c <= range.e.c; c++) {
      const cell = sheet[XLSX.utils.encode_cell({ r, c })] as XLSX.CellObject | undefined;
      cells.push(cellText(cell));
    }
    while (cells.length > 0 && cells[cells.length - 1] === '') cells.pop();
    if (cells.length > 0) records.push({ line: r + 1, cells });
  }
  return records;
}

function cellText(cell: XLSX.CellObject | undefined): string {
  if (!cell || cell.v === undefined || cell.v === null) return '';
  if (cell.v instanceof Date) {
    // SheetJS makes a date cell a Date at local midnight (or the time of day it holds).
    const d = cell.v;
    const pad = (n: number) => String(n).padStart(2, '0');
    const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    const time = d.getHours() || d.getMinutes() || d.getSeconds() ? `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}Z` : '';
    return date + time;
  }
  if (typeof cell.v === 'boolean') return cell.v ? 'true' : 'false';
  return String(cell.v);
}

/** The sheet read and every row checked. A sheet-wide fault (no header, an unknown column) is a problem of line 1. */
export function parseSheet(name: string, bytes: Uint8Array): ParsedSheet {
  const records = sheetRecords(name, bytes);
  const [head, ...body] = records;
  const cells = new Map(records.map((r) => [r.line, r.cells]));
  if (!head) return { header: [], cells, rows: [], problems: [{ line: 1, column: '(sheet)', message: 'the sheet is empty: it needs a header row naming its columns' }] };
  const problems: RowProblem[] = [];
  const columnAt: (Column | undefined)[] = [];
  const seen = new Set<Column>();
  head.cells.forEach((h) => {
    const col = BY_HEADER.get(normalizeHeader(h));
    if (!col) {
      if (h.trim() !== '') problems.push({ line: head.line, column: h, message: `unknown column "${h}" (the columns are ${COLUMNS.join(', ')})` });
    } else if (seen.has(col)) problems.push({ line: head.line, column: h, message: `column ${col} appears twice` });
    else seen.add(col);
    columnAt.push(col);
  });
  if (!seen.has('path')) problems.push({ line: head.line, column: 'path', message: 'the sheet has no path column' });
  // A header that is wrong makes every row's meaning uncertain: nothing below it is read as terms.
  if (problems.length > 0) return { header: head.cells, cells, rows: [], problems };
  const rows: RowTerms[] = [];
  for (const rec of body) {
    const values = new Map<Column, string>();
    rec.cells.forEach((v, i) => {
      const col = columnAt[i];
      if (col) values.set(col, v.trim());
      else if (v.trim() !== '') problems.push({ line: rec.line, column: `(column ${i + 1})`, message: 'a value under no header' });
    });
    const checked = checkRow(rec.line, values);
    if ('problems' in checked) problems.push(...checked.problems);
    else if (!problems.some((p) => p.line === rec.line)) rows.push(checked.row);
  }
  return { header: head.cells, cells, rows, problems };
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** 2026-01-01 (the day's start, UTC; the day's end for an end date) or an RFC 3339 date-time. */
function instant(v: string, end: boolean): string | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const at = `${v}T${end ? '23:59:59' : '00:00:00'}Z`;
    const d = new Date(at);
    return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v ? undefined : at;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(v) && !Number.isNaN(Date.parse(v))) return new Date(v).toISOString().replace('.000Z', 'Z');
  return undefined;
}

const API_FIELD_COLUMN: Record<string, Column> = {
  licensor: 'licensor',
  licensee: 'licensee',
  vendors: 'vendors',
  territories: 'territories',
  media: 'media',
  term: 'termEnd',
  attribution: 'attribution',
  contractRef: 'contractId',
  grants: 'training',
  exclusivity: 'exclusivity',
};

export function checkRow(line: number, v: Map<Column, string>): { row: RowTerms } | { problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  const bad = (column: Column, message: string) => problems.push({ line, column, message });
  const get = (c: Column) => v.get(c) ?? '';
  const path = get('path').replace(/\\/g, '/').replace(/^\.\//, '');
  if (!path) bad('path', 'a path (relative to the folder, a glob such as env/*.png allowed) is required');
  else {
    const why = globProblem(path);
    if (why) bad('path', why);
  }
  const creator = get('creator');
  if (!creator) bad('creator', 'a creator is required');
  for (const c of ['title', 'creator', 'rightsHolder'] as const) if (get(c).length > (c === 'title' ? 500 : 300)) bad(c, `longer than ${c === 'title' ? 500 : 300} characters`);

  let license: LicenseTerms | null = null;
  if (LICENSE_COLUMNS.some((c) => get(c) !== '')) {
    for (const c of LICENSE_REQUIRED) if (get(c) === '') bad(c, `${c} is required for a license (or leave every license column blank to register the art only)`);
    const grant = (c: 'training' | 'derivatives' | 'commercial'): Grant => {
      const g = get(c);
      if (g !== '' && !isOneOf(GRANT_VALUES, g)) bad(c, `"${g}" is not one of ${GRANT_VALUES.join(', ')}`);
      return g as Grant;
    };
    const grants = { training: grant('training'), derivatives: grant('derivatives'), commercial: grant('commercial') };
    const territories = list(get('territories')).map((t) => t.toUpperCase());
    for (const t of territories) if (!isTerritory(t)) bad('territories', `"${t}" is not an ISO 3166-1 alpha-2 code or WORLD`);
    if (new Set(territories).size !== territories.length) bad('territories', 'a territory repeats');
    const media = list(get('media'));
    const vendors = list(get('vendors'));
    if (new Set(vendors).size !== vendors.length) bad('vendors', 'a vendor repeats');
    const startText = get('termStart');
    const endText = get('termEnd');
    const start = startText ? instant(startText, false) : undefined;
    if (startText && !start) bad('termStart', `"${startText}" is not an ISO 8601 date (2026-01-01) or date-time`);
    const end = /^perpetuity$/i.test(endText) ? PERPETUITY : endText ? instant(endText, true) : undefined;
    if (endText && !end) bad('termEnd', `"${endText}" is not an ISO 8601 date (2030-12-31), a date-time, or perpetuity`);
    if (start && end && Date.parse(end) <= Date.parse(start)) bad('termEnd', `the term ends (${endText}) before it starts (${startText})`);
    const ex = get('exclusivity').toLowerCase();
    if (ex !== '' && ex !== 'true' && ex !== 'false') bad('exclusivity', `"${get('exclusivity')}" is not true or false`);
    const contractId = get('contractId');
    const contractSha = get('contractSha256').toLowerCase();
    if (contractSha && !/^[0-9a-f]{64}$/.test(contractSha)) bad('contractSha256', 'must be 64 hex digits (SHA-256)');
    if (Boolean(contractId) !== Boolean(contractSha)) bad(contractId ? 'contractSha256' : 'contractId', 'contractId and contractSha256 go together');
    const attribution = get('attribution');
    if (attribution.length > 1000) bad('attribution', 'longer than 1000 characters');
    license = {
      licensor: get('licensor'),
      licensee: get('licensee'),
      vendors,
      grants,
      territories,
      media,
      term: { start: start ?? '', end: end ?? '' },
      exclusivity: ex === 'true',
      ...(attribution ? { attribution } : {}),
      ...(contractId && contractSha ? { contractRef: { id: contractId, sha256: contractSha } } : {}),
    };
  }
  if (problems.length === 0 && license) {
    // The same check as POST /v1/assets/{id}/licenses: what passes here is what the API would take.
    const checked = LicenseCreate.safeParse(license);
    if (!checked.success) for (const issue of checked.error.issues) bad(API_FIELD_COLUMN[String(issue.path[0])] ?? 'path', issue.message);
  }
  if (problems.length > 0) return { problems };
  return { row: { line, path, title: get('title') || null, creator, rightsHolder: get('rightsHolder') || null, license } };
}

/** The terms as compared: two rows (or a row and a recorded version) with equal keys say the same. */
export function termsKey(t: Pick<RowTerms, 'license'>): string {
  const l = t.license;
  if (!l) return 'none';
  const sorted = (a: string[]) => [...a].sort();
  return JSON.stringify([
    l.licensor,
    l.licensee,
    sorted(l.vendors),
    l.grants.training,
    l.grants.derivatives,
    l.grants.commercial,
    sorted(l.territories),
    sorted(l.media),
    Date.parse(l.term.start),
    Date.parse(l.term.end),
    l.exclusivity,
    l.attribution ?? null,
    l.contractRef?.id ?? null,
    l.contractRef?.sha256 ?? null,
  ]);
}

/** What two rows naming the same file must agree on: the asset's own fields and the terms. */
export function rowKey(r: RowTerms): string {
  return JSON.stringify([r.title, r.creator, r.rightsHolder, termsKey(r)]);
}

/** The template shipped in docs/ and printed by `clearframe import --template`. */
export const TEMPLATE = `${COLUMNS.join(',')}\r
env/*.png,,R. Ortiz,Ortiz Studio,Ortiz Studio,Upstairs Films,acme-vfx,allowed,allowed,notAllowed,US;CA,theatrical;streaming,2026-01-01,2030-12-31,false,Concept art by R. Ortiz,C-17,1845f5dd4681f056e5a11b23620b5f74f3462150c63101b90a373d6ba138ee64\r
characters/lead-turnaround.psd,"Lead, turnaround",M. Chen,Chen Design,Chen Design,Upstairs Films,,requiresApproval,allowed,notAllowed,WORLD,streaming,2026-03-01,perpetuity,true,,,\r
`;
