import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * The embedded database's directory, for its owner alone: the directory and every folder in it 0700,
 * every file 0600. PGlite creates its files world-writable (0666, whatever the umask), so this runs when
 * the database opens and again when it closes; between the two, the 0700 directory is what keeps the
 * files it creates meanwhile from anyone else (no one else can reach them through it).
 */
export function makePrivate(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const at = path.join(dir, entry.name);
    if (entry.isDirectory()) makePrivate(at);
    else if (entry.isFile()) chmodSync(at, 0o600);
  }
}
