/**
 * `npm run bench [-- <section> ...]`: runs the named benchmark sections (all of them without names),
 * one after another, each on its own fresh PostgreSQL database, and writes bench/results/<section>.json.
 *
 *   npm run bench                 # every section
 *   npm run bench -- audit        # just the audit log
 *   npm run bench -- --list       # what there is
 *
 * Each section has a hard time limit; past it the run drops its databases and exits with status 1,
 * so a bench never hangs. BENCH_DATABASE_URL points at the server (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { type BenchSection, runCleanups } from './harness.ts';

/** Sections by name, loaded lazily. Add new sections here (e.g. gate clearance, C2PA signing). */
const SECTIONS: Record<string, () => Promise<BenchSection>> = {
  audit: async () => (await import('./audit.ts')).auditSection,
  gate: async () => (await import('./gate.ts')).gateSection,
  c2pa: async () => (await import('./c2pa.ts')).c2paSection,
  'audit-export': async () => (await import('./audit-export.ts')).auditExportSection,
  state: async () => (await import('./state.ts')).stateSection,
  durability: async () => (await import('./durability.ts')).durabilitySection,
  console: async () => (await import('./console.ts')).consoleSection,
  http: async () => (await import('./http.ts')).httpSection,
  instances: async () => (await import('./instances.ts')).instancesSection,
  avails: async () => (await import('./avails.ts')).availsSection,
  fingerprints: async () => (await import('./fingerprints.ts')).fingerprintsSection,
  imports: async () => (await import('./imports.ts')).importsSection,
  softbinding: async () => (await import('./softbinding.ts')).softbindingSection,
  pools: async () => (await import('./pools.ts')).poolsSection,
};

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv.includes('--list')) {
    console.log(`usage: npm run bench [-- <section> ...]\nsections: ${Object.keys(SECTIONS).join(', ')}`);
    return 0;
  }
  const names = argv.length > 0 ? argv : Object.keys(SECTIONS);
  const unknown = names.filter((n) => !(n in SECTIONS));
  if (unknown.length > 0) {
    console.error(`unknown bench section(s): ${unknown.join(', ')} (known: ${Object.keys(SECTIONS).join(', ')})`);
    return 2;
  }
  let failed = 0;
  for (const name of names) {
    const section = await SECTIONS[name]!();
    const watchdog = setTimeout(() => {
      console.error(`[bench] section "${name}" exceeded its ${section.timeoutS} s limit: stopping`);
      void runCleanups().finally(() => process.exit(1));
    }, section.timeoutS * 1000);
    watchdog.unref();
    try {
      await section.run();
    } catch (e) {
      failed += 1;
      console.error(`[bench] section "${name}" failed:`, e);
    } finally {
      clearTimeout(watchdog);
      await runCleanups();
    }
  }
  return failed === 0 ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[bench] ${signal}: dropping bench databases`);
    void runCleanups().finally(() => process.exit(130));
  });
}

// Exit explicitly: a section that left a handle open must not keep the run alive.
process.exit(await main(process.argv.slice(2)));
