import postgres from 'postgres';

/** Where the README says a developer's PostgreSQL is: the machine's own, trust auth, on the loopback port. */
export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** `url` when a PostgreSQL answers there within `timeoutMs` (one `select 1`), else null. */
export async function answeringPostgres(url = LOCAL_POSTGRES_URL, timeoutMs = 2_000): Promise<string | null> {
  const sql = postgres(url, { max: 1, connect_timeout: Math.ceil(timeoutMs / 1000), idle_timeout: 1, onnotice: () => {} });
  try {
    await Promise.race([sql`select 1`, new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref())]);
    return url;
  } catch {
    return null;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}
