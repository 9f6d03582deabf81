import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * PGlite is PostgreSQL inside one process: two processes on one data directory would corrupt it.
 * A pid file makes the second one stop with a clear message instead.
 */
export function lockPgliteDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'clearframe.pid');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(`the embedded database in ${dataDir} is in use by process ${pid}; stop it first, or run with DATABASE_URL (PostgreSQL) to share one database`);
    }
    rmSync(file, { force: true }); // left behind by a process that is gone
  }
  const fd = openSync(file, 'wx');
  writeSync(fd, String(process.pid));
  closeSync(fd);
  return () => rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
