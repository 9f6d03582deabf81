-- The lists page by audit index (GET /v1/licenses, GET /v1/outputs) and filter outputs by clearance: each
-- page is an index range, not a sort of the whole table.
CREATE INDEX IF NOT EXISTS "license_versions_audit_index_idx" ON "license_versions" USING btree ("audit_index");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "outputs_audit_index_idx" ON "outputs" USING btree ("audit_index");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "outputs_clearance_idx" ON "outputs" USING btree ("clearance_id","audit_index");
