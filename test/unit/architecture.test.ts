import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The folder layering of docs/architecture.md, enforced: a folder imports only folders on lower lines of
// its `layers` block, folders of one line do not import each other, and nothing imports the root.
const SRC = path.resolve('src');
const ROOT = '(root)';

function layersFromDocs(): string[][] {
  const doc = readFileSync(path.resolve('docs/architecture.md'), 'utf8');
  const block = /```layers\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/architecture.md has no ```layers block');
  return block[1]!
    .split('\n')
    .map((l) => l.trim().split(/\s+/).filter(Boolean))
    .filter((l) => l.length > 0);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : /\.(ts|js)$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

/** The folder a file belongs to, as the layers name it: its directory under src/, or (root). */
function folderOf(file: string): string {
  const dir = path.relative(SRC, path.dirname(file)).split(path.sep).join('/');
  return dir === '' ? ROOT : dir;
}

/** Every relative module a file imports, re-exports or loads (import(), new URL(..., import.meta.url)). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  for (const m of text.matchAll(/new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url/g)) specs.push(m[1]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => path.resolve(path.dirname(file), s));
}

type Edge = { from: string; to: string; file: string; target: string };

function folderEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const target of importsOf(file)) {
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to) edges.push({ from, to, file: path.relative(SRC, file), target: path.relative(SRC, target) });
    }
  }
  return edges;
}

/** Edges that the layers forbid, as readable lines. */
function violations(layers: string[][], edges: Edge[]): string[] {
  const rank = new Map<string, number>();
  layers.forEach((line, i) => {
    for (const folder of line) rank.set(folder, layers.length - i);
  });
  return edges.flatMap((e) => {
    const a = rank.get(e.from);
    const b = rank.get(e.to);
    if (a === undefined || b === undefined) return [`${e.file} → ${e.target}: ${a === undefined ? e.from : e.to} is in no layer`];
    return b < a ? [] : [`${e.file} → ${e.target}: ${e.from} may not import ${e.to} (${b === a ? 'same layer' : 'a higher layer'})`];
  });
}

describe('folder layering (docs/architecture.md)', () => {
  const layers = layersFromDocs();
  const edges = folderEdges();

  it('names every folder under src/ exactly once', () => {
    const named = layers.flat();
    const folders = [...new Set(sourceFiles(SRC).map(folderOf))];
    expect(named.filter((f, i) => named.indexOf(f) !== i)).toEqual([]);
    expect(folders.filter((f) => !named.includes(f)).sort()).toEqual([]);
    expect(named.filter((f) => !folders.includes(f)).sort()).toEqual([]);
  });

  it('sees the imports it judges', () => {
    // A parser that missed imports would pass anything: these edges exist.
    expect(edges.some((e) => e.from === ROOT && e.to === 'outputs')).toBe(true);
    expect(edges.some((e) => e.from === 'outputs' && e.to === 'provenance/c2pa')).toBe(true);
    expect(edges.some((e) => e.from === 'gate' && e.to === 'licenses')).toBe(true);
  });

  it('has no folder importing one on its own line or above it', () => {
    expect(violations(layers, edges)).toEqual([]);
  });

  it('would catch an upward import, a cycle and an unknown folder', () => {
    const sample: Edge[] = [
      { from: 'assets', to: 'outputs', file: 'assets/service.ts', target: 'outputs/sign.ts' },
      { from: 'db', to: 'provenance/c2pa', file: 'db/x.ts', target: 'provenance/c2pa/y.ts' },
      { from: 'gate', to: 'nowhere', file: 'gate/x.ts', target: 'nowhere/y.ts' },
      { from: 'outputs', to: 'assets', file: 'outputs/plan.ts', target: 'assets/tables.ts' },
    ];
    expect(violations(layers, sample)).toEqual([
      'assets/service.ts → outputs/sign.ts: assets may not import outputs (a higher layer)',
      'db/x.ts → provenance/c2pa/y.ts: db may not import provenance/c2pa (same layer)',
      'gate/x.ts → nowhere/y.ts: nowhere is in no layer',
    ]);
  });
});
