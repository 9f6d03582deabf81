import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * PGlite is PostgreSQL inside one process: two processes on one data directory would corrupt it.
 * A pid file makes the second one stop with a clear message instead.
 *
 * The file names the holder by pid and by the time the system started that process, so that a file
 * left by a process that is gone does not block start-up when its pid now belongs to another process
 * (after a crash and a reboot, or in a container, where pids are reused quickly).
 */
export function lockPgliteDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'clearframe.pid');
  if (existsSync(file)) {
    const holder = readHolder(readFileSync(file, 'utf8'));
    if (holder && holder.pid !== process.pid && holdsLock(holder)) {
      throw new Error(`the embedded database in ${dataDir} is in use by process ${holder.pid}; stop it first, or run with DATABASE_URL (PostgreSQL) to share one database`);
    }
    rmSync(file, { force: true }); // left behind by a process that is gone
  }
  const fd = openSync(file, 'wx');
  writeSync(fd, `${JSON.stringify({ pid: process.pid, startTime: startTimeOf(process.pid) })}\n`);
  closeSync(fd);
  return () => rmSync(file, { force: true });
}

/** The holder a pid file names: `{ pid, startTime }`, or a bare pid as files written before had it. */
type Holder = { pid: number; startTime?: string | null };

function readHolder(text: string): Holder | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const parsed = JSON.parse(trimmed) as Holder;
    return Number.isSafeInteger(parsed.pid) && parsed.pid > 0 ? parsed : undefined;
  } catch {
    return undefined; // not a file this code wrote: nobody can be holding the lock through it
  }
}

/** Whether the process a pid file names is still the one that wrote it. */
function holdsLock(holder: Holder): boolean {
  if (!isAlive(holder.pid)) return false;
  const now = startTimeOf(holder.pid);
  // Where the system says when a process started (Linux), the same pid started at another time is another process.
  if (holder.startTime && now) return holder.startTime === now;
  // A bare pid (a file written before start times were kept): the holder if that process runs Clearframe.
  if (holder.startTime === undefined) {
    const cmdline = commandLineOf(holder.pid);
    if (cmdline !== undefined) return /clearframe|[/\\]cli\.(ts|js)\b/.test(cmdline);
  }
  return true; // nothing more to go on: a live process keeps the lock
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot; null off Linux. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}
