-- Several licenses per asset (issue 19): each license is its own chain of versions, named by its license id,
-- the id of the chain's first version. Until now an asset had one chain, so every existing version belongs
-- to the chain of its asset's first version. The append-only trigger is lifted for this one backfill only.
ALTER TABLE "license_versions" ADD COLUMN "license_id" text;
--> statement-breakpoint
ALTER TABLE "license_versions" DISABLE TRIGGER "license_versions_append_only";
--> statement-breakpoint
UPDATE "license_versions" lv SET "license_id" = first."id"
  FROM "license_versions" first
  WHERE first."asset_id" = lv."asset_id"
    AND first."version" = (SELECT min(v."version") FROM "license_versions" v WHERE v."asset_id" = lv."asset_id");
--> statement-breakpoint
ALTER TABLE "license_versions" ENABLE TRIGGER "license_versions_append_only";
--> statement-breakpoint
ALTER TABLE "license_versions" ALTER COLUMN "license_id" SET NOT NULL;
--> statement-breakpoint
-- Versions are numbered within their license; the supersedes key stays, so two concurrent amendments of one
-- version still cannot both land.
DROP INDEX IF EXISTS "license_versions_asset_version_key";
--> statement-breakpoint
CREATE UNIQUE INDEX "license_versions_license_version_key" ON "license_versions" USING btree ("license_id","version");
--> statement-breakpoint
CREATE INDEX "license_versions_asset_idx" ON "license_versions" USING btree ("asset_id");
