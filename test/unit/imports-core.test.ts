import * as XLSX from '@e965/xlsx';
import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, csvLine, readCsv as parseCsv } from '../../src/http/csv.ts';
import { globRegExp, PathMatcher } from '../../src/imports/glob.ts';
import { errorFileCsv, type FileFact, ImportPlanner, iptcProhibitsTraining } from '../../src/imports/plan.ts';
import { COLUMNS, PERPETUITY, parseSheet, TEMPLATE, termsKey } from '../../src/imports/sheet.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const HEADER =
  'path,title,creator,rightsHolder,licensor,licensee,vendors,training,derivatives,commercial,territories,media,termStart,termEnd,exclusivity,attribution,contractId,contractSha256';
const TERMS = 'Ortiz Studio,Upstairs Films,acme-vfx,allowed,allowed,notAllowed,US;CA,theatrical;streaming,2026-01-01,2030-12-31,false,,,';
const file = (
  path: string,
  sha = path
    .padEnd(64, '0')
    .slice(0, 64)
    .replace(/[^0-9a-f]/g, 'a'),
): FileFact => ({ path, sha256: sha, byteSize: 10, mediaType: 'image/png' });

describe('CSV (RFC 4180)', () => {
  it('reads quotes, doubled quotes, commas and line breaks inside quotes, CRLF and LF alike', () => {
    const recs = parseCsv('a,b,c\r\n"x, y","say ""hi""","two\r\nlines"\nplain,,end\n');
    expect(recs.map((r) => r.cells)).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'two\r\nlines'],
      ['plain', '', 'end'],
    ]);
    // The record after a quoted line break starts on the sheet's line 4, as a spreadsheet numbers it.
    expect(recs.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('drops a UTF-8 byte-order mark, blank lines and a missing final newline', () => {
    expect(parseCsv('\uFEFFpath,title\n\nx.png,Ünïcode').map((r) => r.cells)).toEqual([
      ['path', 'title'],
      ['x.png', 'Ünïcode'],
    ]);
  });

  it('refuses an unclosed quote and text after a closing quote, naming the line', () => {
    expect(() => parseCsv('a\n"open')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a\n"open')).toThrow(/line 2/);
    expect(() => parseCsv('"a"b,c')).toThrow(/after a closing quote/);
  });

  it('writes what it reads back, and keeps a spreadsheet from reading a cell as a formula', () => {
    const cells = ['x, y', 'say "hi"', 'two\nlines', ' edge '];
    expect(parseCsv(csvLine(cells))[0]!.cells).toEqual(cells);
    expect(csvLine(['=HYPERLINK("x")'])).toBe(`"'=HYPERLINK(""x"")"\r\n`);
  });
});

describe('globs', () => {
  it('matches * within a folder, ** across folders, ?, sets and alternatives', () => {
    expect(globRegExp('env/*.png').test('env/a.png')).toBe(true);
    expect(globRegExp('env/*.png').test('env/sub/a.png')).toBe(false);
    expect(globRegExp('**/*.png').test('a.png')).toBe(true);
    expect(globRegExp('**/*.png').test('x/y/a.png')).toBe(true);
    expect(globRegExp('shot-0?.tif').test('shot-07.tif')).toBe(true);
    expect(globRegExp('[ab]*.psd').test('c.psd')).toBe(false);
    expect(globRegExp('*.{png,jpg}').test('k.jpg')).toBe(true);
    expect(globRegExp('a.b').test('axb')).toBe(false); // a dot is a dot
  });

  it('finds every row naming a file, exact and glob', () => {
    const m = new PathMatcher([{ path: 'env/a.png' }, { path: 'env/*.png' }, { path: 'chars/*' }]);
    expect(m.match('env/a.png').map((r) => r.path)).toEqual(['env/a.png', 'env/*.png']);
    expect(m.match('props/x.png')).toEqual([]);
  });
});

describe('the terms sheet', () => {
  it('matches headers without regard to case and spaces, and reads a row into the API’s license terms', () => {
    const sheet = parseSheet(
      't.csv',
      enc(
        `Path, TITLE ,Creator,Rights Holder,licensor,licensee,vendors,training,derivatives,commercial,territories,media,term start,termEnd,exclusivity,attribution,contract id,contractSha256\nenv/*.png,,R. Ortiz,,${TERMS}\n`,
      ),
    );
    expect(sheet.problems).toEqual([]);
    const row = sheet.rows[0]!;
    expect(row).toMatchObject({ line: 2, path: 'env/*.png', title: null, creator: 'R. Ortiz' });
    expect(row.license).toEqual({
      licensor: 'Ortiz Studio',
      licensee: 'Upstairs Films',
      vendors: ['acme-vfx'],
      grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' },
      territories: ['US', 'CA'],
      media: ['theatrical', 'streaming'],
      term: { start: '2026-01-01T00:00:00Z', end: '2030-12-31T23:59:59Z' },
      exclusivity: false,
    });
  });

  it('names each bad cell: enum, territory, date, end before start, boolean, hash', () => {
    const rows = [
      `a.png,,X,,L,E,,sometimes,allowed,notAllowed,US,tv,2026-01-01,2030-01-01,false,,,`,
      `b.png,,X,,L,E,,allowed,allowed,notAllowed,USA,tv,2026-01-01,2030-01-01,false,,,`,
      `c.png,,X,,L,E,,allowed,allowed,notAllowed,US,tv,2026-02-30,2030-01-01,false,,,`,
      `d.png,,X,,L,E,,allowed,allowed,notAllowed,US,tv,2026-01-01,2025-01-01,false,,,`,
      `e.png,,X,,L,E,,allowed,allowed,notAllowed,US,tv,2026-01-01,perpetuity,maybe,,,`,
      `f.png,,X,,L,E,,allowed,allowed,notAllowed,US,tv,2026-01-01,perpetuity,true,,C-1,abc`,
      `g.png,,,,,,,,,,,,,,,,,`,
    ];
    const sheet = parseSheet('t.csv', enc(`${HEADER}\n${rows.join('\n')}\n`));
    const by = (line: number) => sheet.problems.filter((p) => p.line === line).map((p) => p.column);
    expect(by(2)).toEqual(['training']);
    expect(by(3)).toEqual(['territories']);
    expect(by(4)).toEqual(['termStart']);
    expect(by(5)).toEqual(['termEnd']);
    expect(by(6)).toEqual(['exclusivity']);
    expect(by(7)).toEqual(['contractSha256']);
    expect(by(8)).toEqual(['creator']); // no license columns at all: art registered without one, but a creator is needed
    expect(sheet.rows).toEqual([]);
  });

  it('takes perpetuity as the term without end, and a row without license columns as art only', () => {
    const sheet = parseSheet('t.csv', enc(`${HEADER}\na.png,,X,,L,E,,allowed,allowed,notAllowed,WORLD,tv,2026-01-01,Perpetuity,true,,,\nb.png,Title,X,,,,,,,,,,,,,,,\n`));
    expect(sheet.problems).toEqual([]);
    expect(sheet.rows[0]!.license!.term.end).toBe(PERPETUITY);
    expect(sheet.rows[1]!.license).toBeNull();
  });

  it('refuses an unknown or repeated column, or no path column, on the header line', () => {
    expect(parseSheet('t.csv', enc('path,colour\na.png,red\n')).problems).toEqual([{ line: 1, column: 'colour', message: expect.stringContaining('unknown column') }]);
    expect(parseSheet('t.csv', enc('path,Path\n')).problems[0]!.message).toMatch(/twice/);
    expect(parseSheet('t.csv', enc('title\nx\n')).problems[0]!.column).toBe('path');
    expect(() => parseSheet('t.csv', new Uint8Array([0xff, 0xfe, 0x00]))).toThrow(/not UTF-8/);
  });

  it('reads the first sheet of an XLSX workbook, dates and booleans included', () => {
    const book = XLSX.utils.book_new();
    const ws = XLSX.utils.aoa_to_sheet([
      COLUMNS as unknown as string[],
      ['a.png', 'A', 'X', '', 'L', 'E', '', 'allowed', 'allowed', 'notAllowed', 'US', 'tv', new Date(2026, 0, 1), new Date(2030, 11, 31), false, '', '', ''],
    ]);
    XLSX.utils.book_append_sheet(book, ws, 'Terms');
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['ignored']]), 'Notes');
    const bytes = XLSX.write(book, { type: 'buffer', bookType: 'xlsx' }) as Buffer;
    const sheet = parseSheet('terms.xlsx', new Uint8Array(bytes));
    expect(sheet.problems).toEqual([]);
    expect(sheet.rows[0]!.license!.term).toEqual({ start: '2026-01-01T00:00:00Z', end: '2030-12-31T23:59:59Z' });
    expect(sheet.rows[0]!.license!.exclusivity).toBe(false);
  });

  it('ships a template that reads without a problem', () => {
    const sheet = parseSheet('template.csv', enc(TEMPLATE));
    expect(sheet.problems).toEqual([]);
    expect(sheet.rows).toHaveLength(2);
    expect(sheet.rows[1]!.title).toBe('Lead, turnaround');
  });
});

describe('the plan', () => {
  const sheetOf = (...rows: string[]) => parseSheet('t.csv', enc(`${HEADER}\n${rows.join('\n')}\n`));

  it('refuses a file two rows give different terms, and takes two rows that agree', () => {
    const s = sheetOf(`env/*.png,,X,,${TERMS}`, `env/a.png,,X,,${TERMS}`, `env/b.png,,Y,,${TERMS}`);
    const p = new ImportPlanner(s.rows, { amend: false });
    expect(p.decide(file('env/a.png'), undefined)).toMatchObject({ kind: 'planned', action: 'create', row: { line: 2 } });
    expect(p.decide(file('env/b.png'), undefined)).toMatchObject({ kind: 'error', lines: [2, 4], column: 'path' });
    expect(p.decide(file('props/c.png'), undefined)).toEqual({ kind: 'unmatched' });
    expect(p.unmatchedRows()).toEqual([]);
  });

  it('leaves content registered with the same terms alone, licenses one left without, and amends only with --amend', () => {
    const s = sheetOf(`a.png,,X,,${TERMS}`);
    const key = termsKey(s.rows[0]!);
    const plain = new ImportPlanner(s.rows, { amend: false });
    expect(plain.decide(file('a.png'), { assetId: 'ast_1', licenseKey: key, revoked: false })).toMatchObject({ action: 'unchanged', assetId: 'ast_1' });
    expect(plain.decide(file('a.png'), { assetId: 'ast_1', licenseKey: 'none', revoked: false })).toMatchObject({ action: 'license', assetId: 'ast_1' });
    expect(plain.decide(file('a.png'), { assetId: 'ast_1', licenseKey: 'other', revoked: false })).toMatchObject({ kind: 'error', message: expect.stringContaining('--amend') });
    expect(plain.decide(file('a.png'), { assetId: 'ast_1', licenseKey: key, revoked: true })).toMatchObject({ kind: 'error', message: expect.stringContaining('revoked') });
    const amend = new ImportPlanner(s.rows, { amend: true });
    expect(amend.decide(file('a.png'), { assetId: 'ast_1', licenseKey: 'other', revoked: false })).toMatchObject({ action: 'amend' });
  });

  it('names a row that matches no file', () => {
    const s = sheetOf(`missing/*.png,,X,,${TERMS}`);
    const p = new ImportPlanner(s.rows, { amend: false });
    p.decide(file('a.png'), undefined);
    expect(p.unmatchedRows()).toEqual([{ line: 2, column: 'path', message: 'missing/*.png matches no file in the folder' }]);
  });

  it('refuses a row allowing training on art whose own IPTC or valid C2PA metadata prohibits it', () => {
    const s = sheetOf(`a.png,,X,,${TERMS}`);
    const p = new ImportPlanner(s.rows, { amend: false });
    expect(p.decide({ ...file('a.png'), iptcDataMining: 'http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING' }, undefined)).toMatchObject({
      kind: 'error',
      column: 'training',
    });
    const c2pa = { trainingMining: { c2pa: 'notAllowed' as const, cawg: null }, manifest: { state: 'valid' as const, codes: [] } };
    expect(p.decide({ ...file('a.png'), embedded: c2pa }, undefined)).toMatchObject({ kind: 'error', column: 'training' });
    expect(iptcProhibitsTraining('http://ns.useplus.org/ldf/vocab/DMI-ALLOWED')).toBe(false);
    expect(iptcProhibitsTraining('DMI-UNSPECIFIED')).toBe(false);
  });

  it('writes the error file: failing rows as written, with the column and the problem', () => {
    const s = sheetOf(`a.png,"Title, quoted",X,,Ortiz Studio,Upstairs Films,,never,allowed,notAllowed,US,tv,2026-01-01,2030-01-01,false,,,`);
    const out = errorFileCsv(s.header, s.cells, s.problems, csvLine);
    const [head, row] = parseCsv(out).map((r) => r.cells);
    expect(head).toEqual(['row', ...HEADER.split(','), 'errorColumn', 'error']);
    expect(row!.slice(0, 3)).toEqual(['2', 'a.png', 'Title, quoted']);
    expect(row!.slice(-2)).toEqual(['training', '"never" is not one of allowed, notAllowed, requiresApproval']);
  });
});

describe('the shipped template', () => {
  it('docs/import-terms-template.csv is what clearframe import --template prints', async () => {
    const { readFileSync } = await import('node:fs');
    expect(readFileSync('docs/import-terms-template.csv', 'utf8')).toBe(TEMPLATE);
  });
});
