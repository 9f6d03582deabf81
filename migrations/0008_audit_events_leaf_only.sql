-- An audit entry is its leaf: the RFC 8785 bytes that are hashed into the tree. The columns that repeated
-- the leaf's fields are dropped, so the stored facts cannot disagree with what was hashed (and a full
-- verification no longer has to compare them). Every dropped value is still in the leaf.
-- The subject lookup keeps its speed through an expression index over the leaf.
CREATE FUNCTION clearframe_leaf_subject(leaf bytea) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT convert_from(leaf, 'UTF8')::jsonb ->> 'subjectId' $$;
--> statement-breakpoint
DROP INDEX "audit_events_subject_idx";
--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "recorded_at";
--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "actor_sub";
--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "actor_role";
--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "action";
--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "subject_id";
--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "content";
--> statement-breakpoint
CREATE INDEX "audit_events_subject_idx" ON "audit_events" USING btree (clearframe_leaf_subject("leaf"));
--> statement-breakpoint
-- For people reading the log with SQL: the leaf's fields as columns, computed from the leaf on read.
CREATE VIEW audit_event_facts AS
  SELECT e.idx,
         (f.j ->> 'time')::timestamptz AS recorded_at,
         f.j -> 'actor' ->> 'sub' AS actor_sub,
         f.j -> 'actor' ->> 'role' AS actor_role,
         f.j ->> 'action' AS action,
         f.j ->> 'subjectId' AS subject_id,
         f.j -> 'content' AS content
  FROM audit_events e CROSS JOIN LATERAL (SELECT convert_from(e.leaf, 'UTF8')::jsonb AS j) f;
