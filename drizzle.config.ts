import { defineConfig } from 'drizzle-kit';

// SQL migrations are generated into migrations/ and applied at start-up (and by `clearframe migrate`)
// on PGlite and PostgreSQL alike. Each capability owns its `tables.ts`; this glob is the one list of
// them (the database adapter imports none).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/*/tables.ts',
  out: './migrations',
});
