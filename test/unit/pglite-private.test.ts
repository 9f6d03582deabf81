import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';

// The embedded database's files are its owner's alone: the directory 0700, its files 0600 (issue 17).
describe('the embedded database directory', () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'clearframe-private-'));
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  /** Every path under dir (dir too) whose mode lets group or others in. */
  function open(dir: string): string[] {
    const out = statSync(dir).mode & 0o077 ? [dir] : [];
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const at = path.join(dir, e.name);
      if (e.isDirectory()) out.push(...open(at));
      else if (statSync(at).mode & 0o077) out.push(at);
    }
    return out;
  }

  it('leaves no file or folder readable by anyone else, open or closed', async () => {
    const dir = path.join(parent, 'pglite');
    const database = await openDatabase({ kind: 'pglite', dataDir: dir });
    await database.migrate();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await database.close();
    const files = readdirSync(dir, { recursive: true });
    expect(files.length).toBeGreaterThan(100);
    expect(open(dir)).toEqual([]);
    // Opened again (files of an older version, or of the last run), it stays so.
    const again = await openDatabase({ kind: 'pglite', dataDir: dir });
    expect(open(dir).filter((p) => statSync(p).isDirectory())).toEqual([]);
    await again.close();
    expect(open(dir)).toEqual([]);
  });
});
