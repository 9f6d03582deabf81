// `npm run build`, after tsc: copies every file under src/ that tsc does not emit (TypeScript sources
// excepted) into the same place under dist/, so that dist/ mirrors src/ at run time. Today these are the
// plain-JavaScript worker threads (started by file name via import.meta.url, see hash-worker.js), but
// any asset put into src/ follows without a list to keep up to date here.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TYPESCRIPT = /\.[cm]?tsx?$/; // compiled (or, for .d.ts, type-only) by tsc: never copied

let copied = 0;
function copyDir(rel) {
  for (const entry of readdirSync(path.join(root, 'src', rel), { withFileTypes: true })) {
    const name = path.join(rel, entry.name);
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) copyDir(name);
    else if (entry.isFile() && !TYPESCRIPT.test(entry.name)) {
      mkdirSync(path.join(root, 'dist', rel), { recursive: true });
      copyFileSync(path.join(root, 'src', name), path.join(root, 'dist', name));
      copied++;
    }
  }
}
copyDir('');
console.log(`copy-assets: ${copied} file(s) from src/ to dist/`);
