import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openDatabase, queryRows } from '../../src/db/database.ts';
import { testDbKind } from '../support/db.ts';

// The README must say what the embedded default does on a power loss: PGlite runs with fsync off (and its
// Node file system flushes nothing), so the README says plainly that it is not durable (issue 17). Should
// PGlite ever run durably, this fails and the README changes with it.
describe.skipIf(testDbKind !== 'pglite')('the durability of the embedded default, as the README states it', () => {
  it('PGlite on disk runs with fsync off, and the README says the embedded default is not durable', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clearframe-durability-'));
    try {
      const database = await openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'pglite') });
      try {
        const [row] = await queryRows<{ fsync: string }>(database.db, sql`select current_setting('fsync') as fsync`);
        expect(row?.fsync).toBe('off');
      } finally {
        await database.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain('The embedded default is not durable against power loss or an OS crash.');
    expect(readme).toContain('for a production ledger use PostgreSQL (`DATABASE_URL`)');
  });
});
