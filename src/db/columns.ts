import { customType } from 'drizzle-orm/pg-core';

/** bytea as Uint8Array on both PGlite and postgres.js (both hand back Buffer/Uint8Array). */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)),
  fromDriver: (v) => new Uint8Array(v),
});
