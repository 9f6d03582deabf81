import { defineConfig } from 'vitest/config';

// The integration suite runs twice: on PGlite (embedded) and on PostgreSQL (TEST_DATABASE_URL,
// else testcontainers where Docker answers; with CI=true a missing PostgreSQL fails the run).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    setupFiles: ['src/v8-flags.ts'],
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'pglite', include: ['test/integration/**/*.test.ts'], env: { CLEARFRAME_TEST_DB: 'pglite' } },
      },
      // The web console in Debian's Chromium (playwright-core), against the service on 127.0.0.1 over PGlite.
      {
        extends: true,
        test: { name: 'browser', include: ['test/browser/**/*.test.ts'], env: { CLEARFRAME_TEST_DB: 'pglite' } },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/integration/**/*.test.ts'],
          env: { CLEARFRAME_TEST_DB: 'postgres' },
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
    ],
  },
});
