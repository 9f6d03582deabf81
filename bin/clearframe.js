#!/usr/bin/env node
// The `clearframe` command. It runs the compiled build (dist/, `npm run build`) when that build is
// current, else the TypeScript sources through tsx's loader, so that a fresh clone needs no build step.
// Current means dist/cli.js is at least as new as every file and folder under src/ (a stat walk of a
// few hundred entries, a few ms): a developer who edits src/, and the test suite, which spawns this
// file, never run stale code. The image ships dist/ without src/ (and without tsx): there dist is used.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const built = statSync(path.join(root, 'dist', 'cli.js'), { throwIfNoEntry: false });
const src = path.join(root, 'src');

/** The latest mtime of dir and of everything under it (a folder's changes when an entry goes). */
function newest(dir) {
  let latest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const at = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(at) : statSync(at).mtimeMs);
  }
  return latest;
}

const hasSources = statSync(src, { throwIfNoEntry: false }) !== undefined;
if (!hasSources || (built && built.mtimeMs >= newest(src))) {
  await import('../dist/cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
