import { bigint, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Public halves of the service's keys, recorded (and audit-logged) the first time each key is used. */
export const serviceKeys = pgTable('service_keys', {
  kid: text('kid').primaryKey(),
  purpose: text('purpose').notNull(),
  publicJwk: jsonb('public_jwk').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
});
