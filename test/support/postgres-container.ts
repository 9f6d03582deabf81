import { GenericContainer, Wait } from 'testcontainers';

/** A throwaway PostgreSQL in Docker, for machines without TEST_DATABASE_URL. */
export const PostgreSqlContainerLike = {
  async start(): Promise<{ url: string; stop: () => Promise<unknown> }> {
    const container = await new GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_PASSWORD: 'clearframe', POSTGRES_USER: 'clearframe', POSTGRES_DB: 'clearframe' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .withStartupTimeout(60_000)
      .start();
    const url = `postgres://clearframe:clearframe@${container.getHost()}:${container.getMappedPort(5432)}/clearframe`;
    return { url, stop: () => container.stop() };
  },
};
