-- The C2PA manifest store each output was signed with (the JUMBF c2pa-rs embedded), so that the Soft Binding
-- Resolution API can hand a manifest store to a tool that found the output by its fingerprint, after the
-- copy it holds lost its manifest. Written with the output, in the same statement; its SHA-256 is stated in
-- the output's audit entry, so `audit verify` checks it. Never changed.
CREATE TABLE "output_manifest_stores" (
	"output_id" text PRIMARY KEY NOT NULL REFERENCES "outputs"("id"),
	"store" bytea NOT NULL
);
--> statement-breakpoint
CREATE TRIGGER output_manifest_stores_append_only BEFORE UPDATE OR DELETE ON output_manifest_stores
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER output_manifest_stores_no_truncate BEFORE TRUNCATE ON output_manifest_stores
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
