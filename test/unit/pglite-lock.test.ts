import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockPgliteDir } from '../../src/db/pglite-lock.ts';

// A stale pid file that names an unrelated live process no longer blocks start-up (issue 17).
describe('the embedded database lock', () => {
  let dir: string;
  let other: ChildProcess;
  const pidFile = () => path.join(dir, 'clearframe.pid');
  const startTime = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
  };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-lock-'));
    other = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => other.once('spawn', r));
  });
  afterEach(() => {
    other.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes over a file (as written before) that names a live process which is not Clearframe', () => {
    writeFileSync(pidFile(), String(other.pid));
    const unlock = lockPgliteDir(dir);
    expect(JSON.parse(readFileSync(pidFile(), 'utf8'))).toMatchObject({ pid: process.pid });
    unlock();
  });

  it('takes over a file whose pid now belongs to a process started at another time', () => {
    writeFileSync(pidFile(), JSON.stringify({ pid: other.pid, startTime: '1' }));
    lockPgliteDir(dir)();
  });

  it('refuses while the process that wrote the file still runs', () => {
    writeFileSync(pidFile(), JSON.stringify({ pid: other.pid, startTime: startTime(other.pid!) }));
    expect(() => lockPgliteDir(dir)).toThrow(`in use by process ${other.pid}`);
  });

  it('records who holds it by pid and start time, and removes the file when released', () => {
    const unlock = lockPgliteDir(dir);
    expect(JSON.parse(readFileSync(pidFile(), 'utf8'))).toEqual({ pid: process.pid, startTime: startTime(process.pid) });
    unlock();
    expect(() => readFileSync(pidFile())).toThrow();
  });
});
