import type { TestProject } from 'vitest/node';
import { answeringPostgres } from './local-postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
  }
}

/**
 * Finds the PostgreSQL the integration suite runs against: TEST_DATABASE_URL, else the machine's own on
 * 127.0.0.1:5432 (trust auth) when it answers, else a testcontainers container where a Docker daemon
 * answers, else none (the PostgreSQL run is skipped, PGlite still runs). With CI=true there is no
 * "else none": PostgreSQL is required.
 */
export default async function setup(project: TestProject) {
  const fromEnv = process.env.TEST_DATABASE_URL;
  if (fromEnv) {
    project.provide('postgresUrl', fromEnv);
    return;
  }
  const local = await answeringPostgres();
  if (local) {
    project.provide('postgresUrl', local);
    return;
  }
  let stop: (() => Promise<unknown>) | undefined;
  try {
    const { PostgreSqlContainerLike } = await import('./postgres-container.ts');
    const container = await PostgreSqlContainerLike.start();
    project.provide('postgresUrl', container.url);
    stop = container.stop;
  } catch (e) {
    if (process.env.CI === 'true') {
      throw new Error(`CI=true requires PostgreSQL: set TEST_DATABASE_URL, start PostgreSQL on 127.0.0.1:5432 or run a Docker daemon (${(e as Error).message})`);
    }
    console.warn(`[postgres] no TEST_DATABASE_URL and no Docker daemon: PostgreSQL suite skipped (${(e as Error).message})`);
    project.provide('postgresUrl', null);
  }
  return async () => {
    await stop?.();
  };
}
