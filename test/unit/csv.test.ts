import { describe, expect, it } from 'vitest';
import { csvField, parseCsv, toCsv, wantsCsv } from '../../src/http/csv.ts';

describe('CSV (RFC 4180)', () => {
  it('quotes a field only when it holds a comma, a quote, CR or LF, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(42)).toBe('42');
    expect(csvField(false)).toBe('false');
    expect(csvField(['US', 'CA'])).toBe('US;CA');
  });

  it('writes a header row and ends every line with CRLF', () => {
    const text = toCsv(
      [
        { header: 'id', cell: (r: { id: string; title: string }) => r.id },
        { header: 'title', cell: (r) => r.title },
      ],
      [
        { id: '1', title: 'Stairwell, night' },
        { id: '2', title: 'The "blue" room\nkey frame' },
      ],
    );
    expect(text).toBe('id,title\r\n1,"Stairwell, night"\r\n2,"The ""blue"" room\nkey frame"\r\n');
    expect(text.split('\r\n')).toHaveLength(4);
  });

  it('an empty list is the header alone', () => {
    expect(toCsv([{ header: 'id', cell: (r: { id: string }) => r.id }], [])).toBe('id\r\n');
  });

  it('reads back exactly what it wrote', () => {
    const rows = [
      ['a', 'b,c', 'd"e', 'f\r\ng', ''],
      ['', '""', ',', '\n', 'x'],
    ];
    const cols = rows[0]!.map((_, i) => ({ header: `h${i}`, cell: (r: string[]) => r[i] }));
    const parsed = parseCsv(toCsv(cols, rows));
    expect(parsed[0]).toEqual(['h0', 'h1', 'h2', 'h3', 'h4']);
    expect(parsed.slice(1)).toEqual(rows);
    expect(() => parseCsv('"open')).toThrow(/never closed/);
  });

  it('answers CSV only when Accept prefers text/csv', () => {
    expect(wantsCsv('text/csv')).toBe(true);
    expect(wantsCsv('text/csv; charset=utf-8')).toBe(true);
    expect(wantsCsv('application/json, text/csv;q=0.5')).toBe(false);
    expect(wantsCsv('text/csv, application/json;q=0.9')).toBe(true);
    expect(wantsCsv('text/csv;q=0')).toBe(false);
    expect(wantsCsv('*/*')).toBe(false);
    expect(wantsCsv(undefined)).toBe(false);
  });

  it('writes text a spreadsheet would run as a formula after an apostrophe, and numbers as they are', () => {
    expect(csvField('=HYPERLINK("http://x.example","open")')).toBe(`"'=HYPERLINK(""http://x.example"",""open"")"`);
    expect(['+1', '-1', '@SUM(A1)', '\tx'].map(csvField)).toEqual(["'+1", "'-1", "'@SUM(A1)", "'\tx"]);
    expect(csvField(-5)).toBe('-5');
    expect(csvField('a-b=c')).toBe('a-b=c');
  });
});
