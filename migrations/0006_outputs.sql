CREATE TABLE "outputs" (
	"id" text PRIMARY KEY NOT NULL,
	"checkpoint_id" text NOT NULL,
	"clearance_id" text NOT NULL,
	"dataset_id" text NOT NULL,
	"dataset_digest" text NOT NULL,
	"policy_digest" text NOT NULL,
	"mime_type" text NOT NULL,
	"original_sha256" text NOT NULL,
	"signed_sha256" text NOT NULL,
	"signed_size" bigint NOT NULL,
	"manifest_label" text NOT NULL,
	"source_asset_ids" jsonb NOT NULL,
	"prompt_sha256" text,
	"prompt" text,
	"generator" jsonb,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"audit_index" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "assets" ADD COLUMN "derived_from_output_id" text;--> statement-breakpoint
ALTER TABLE "outputs" ADD CONSTRAINT "outputs_checkpoint_id_checkpoints_id_fk" FOREIGN KEY ("checkpoint_id") REFERENCES "public"."checkpoints"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "outputs_signed_sha256_key" ON "outputs" USING btree ("signed_sha256");--> statement-breakpoint
CREATE INDEX "outputs_manifest_label_idx" ON "outputs" USING btree ("manifest_label");--> statement-breakpoint
CREATE INDEX "outputs_checkpoint_idx" ON "outputs" USING btree ("checkpoint_id");--> statement-breakpoint
CREATE TRIGGER outputs_append_only BEFORE UPDATE OR DELETE ON outputs
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER outputs_no_truncate BEFORE TRUNCATE ON outputs
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
