import { defineConfig } from 'drizzle-kit';

// SQL migrations are generated into migrations/ and applied at start-up (and by `clearframe migrate`)
// on PGlite and PostgreSQL alike.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/audit/tables.ts', './src/assets/tables.ts', './src/licenses/tables.ts', './src/keys/tables.ts', './src/datasets/tables.ts', './src/gate/tables.ts', './src/tuning/tables.ts', './src/checkpoints/tables.ts', './src/outputs/tables.ts'],
  out: './migrations',
});
