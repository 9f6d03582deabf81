import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { answeringPostgres, LOCAL_POSTGRES_URL } from '../support/local-postgres.ts';

// `npm test` finds the machine's PostgreSQL on 127.0.0.1:5432 as the README says (issue 16).
describe('finding the local PostgreSQL', () => {
  it.runIf(process.env.CI === 'true')('answers with the README URL where the machine has one (CI starts it)', async () => {
    expect(await answeringPostgres()).toBe(LOCAL_POSTGRES_URL);
  });

  it('answers null, within its timeout, where nothing speaks PostgreSQL', async () => {
    // A port that accepts connections and says nothing, then one that refuses them.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    expect(await answeringPostgres(`postgres://postgres@127.0.0.1:${port}/postgres`, 500)).toBeNull();
    expect(Date.now() - started).toBeLessThan(3_000);
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => silent.close(r));
    expect(await answeringPostgres(`postgres://postgres@127.0.0.1:${port}/postgres`, 500)).toBeNull();
  });
});
