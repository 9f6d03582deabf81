import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';

// SQL written as text (set-based statements drizzle's builder does not express) may name another
// capability's tables only where that folder declares them: its foreign-tables.ts (issue 15).
const SRC = path.resolve('src');
const folders = readdirSync(SRC).filter((d) => statSync(path.join(SRC, d)).isDirectory());

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

async function tablesOf(file: string): Promise<string[]> {
  const mod = (await import(file)) as Record<string, unknown>;
  const values = Object.values(mod).flatMap((v) => (Array.isArray(v) ? v : [v]));
  return values.filter((v) => is(v, PgTable)).map((t) => getTableName(t as PgTable));
}

/** Table names after FROM, JOIN, INTO or UPDATE in a file's code (comments dropped). */
function namedTables(file: string): Set<string> {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  return new Set([...code.matchAll(/\b(?:from|join|into|update)\s+([a-z_][a-z0-9_]*)/g)].map((m) => m[1]!));
}

describe('SQL text names other capabilities’ tables only where declared', async () => {
  const owner = new Map<string, string>();
  for (const folder of folders) {
    const file = path.join(SRC, folder, 'tables.ts');
    if (statSync(path.join(SRC, folder)).isDirectory() && readdirSync(path.join(SRC, folder)).includes('tables.ts')) {
      for (const t of await tablesOf(file)) owner.set(t, folder);
    }
  }

  it('finds the tables it checks against', () => {
    expect(owner.get('license_versions')).toBe('licenses');
    expect(owner.get('audit_events')).toBe('audit');
    expect(owner.size).toBeGreaterThan(15);
  });

  for (const folder of folders) {
    it(`src/${folder}`, async () => {
      const dir = path.join(SRC, folder);
      const declaredFile = path.join(dir, 'foreign-tables.ts');
      const declared = readdirSync(dir).includes('foreign-tables.ts') ? new Set(await tablesOf(declaredFile)) : new Set<string>();
      const named = new Set<string>();
      for (const file of sourceFiles(dir)) {
        if (file === declaredFile || file.endsWith(`${path.sep}tables.ts`)) continue;
        for (const t of namedTables(file)) if (owner.has(t) && owner.get(t) !== folder) named.add(t);
      }
      // Every foreign table named is declared, and every declared one is still named.
      expect([...named].sort()).toEqual([...declared].sort());
    });
  }
});
