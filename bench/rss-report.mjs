// Preloaded into the bench's child processes (NODE_OPTIONS=--import): at exit, the process's peak
// resident set (getrusage ru_maxrss, KiB) and its CPU time, as one marked line on stderr.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const u = process.resourceUsage();
  try {
    writeSync(2, `\n[bench-rss] ${JSON.stringify({ maxRssKiB: u.maxRSS, userMs: Math.round(u.userCPUTime / 1000), systemMs: Math.round(u.systemCPUTime / 1000) })}\n`);
  } catch {
    // stderr closed: nothing to report to
  }
});
