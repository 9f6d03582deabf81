-- The state of an asset's own C2PA manifest as read at registration (none, valid, invalid, damaged,
-- unreadable) with what c2pa-rs said; rows registered before this knew only "terms or none".
ALTER TABLE "assets" ADD COLUMN "embedded_manifest_state" text DEFAULT 'none' NOT NULL;--> statement-breakpoint
ALTER TABLE "assets" ADD COLUMN "embedded_manifest_codes" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
-- Legal's override of an asset whose own manifest cannot be validated: once per asset, never changed.
CREATE TABLE "asset_embedded_overrides" (
	"asset_id" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"audit_index" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "asset_embedded_overrides" ADD CONSTRAINT "asset_embedded_overrides_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE TRIGGER asset_embedded_overrides_append_only BEFORE UPDATE OR DELETE ON asset_embedded_overrides
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER asset_embedded_overrides_no_truncate BEFORE TRUNCATE ON asset_embedded_overrides
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
