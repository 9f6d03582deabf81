-- The preview of an uploaded image (fitted inside 320 px, JPEG without metadata), written with the asset's
-- registration and never changed.
CREATE TABLE "asset_previews" (
	"asset_id" text PRIMARY KEY NOT NULL,
	"media_type" text NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"bytes" bytea NOT NULL
);
--> statement-breakpoint
ALTER TABLE "asset_previews" ADD CONSTRAINT "asset_previews_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE TRIGGER asset_previews_append_only BEFORE UPDATE OR DELETE ON asset_previews
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER asset_previews_no_truncate BEFORE TRUNCATE ON asset_previews
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
