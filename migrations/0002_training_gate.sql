CREATE TABLE "license_approvals" (
	"id" text PRIMARY KEY NOT NULL,
	"license_id" text NOT NULL,
	"grant" text NOT NULL,
	"vendor" text NOT NULL,
	"purpose" text NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_until" timestamp with time zone NOT NULL,
	"note" text,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"audit_index" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dataset_assets" (
	"dataset_id" text NOT NULL,
	"position" integer NOT NULL,
	"asset_id" text NOT NULL,
	"sha256" text NOT NULL,
	CONSTRAINT "dataset_assets_dataset_id_position_pk" PRIMARY KEY("dataset_id","position")
);
--> statement-breakpoint
CREATE TABLE "datasets" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"digest" text NOT NULL,
	"asset_count" integer NOT NULL,
	"parent_id" text,
	"owner_vendor" text,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"audit_index" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "clearance_licenses" (
	"clearance_id" text NOT NULL,
	"license_id" text NOT NULL,
	"asset_count" integer NOT NULL,
	CONSTRAINT "clearance_licenses_clearance_id_license_id_pk" PRIMARY KEY("clearance_id","license_id")
);
--> statement-breakpoint
CREATE TABLE "clearances" (
	"id" text PRIMARY KEY NOT NULL,
	"dataset_id" text NOT NULL,
	"requested_dataset_id" text NOT NULL,
	"mode" text NOT NULL,
	"vendor" text NOT NULL,
	"purpose" text NOT NULL,
	"base_model" text NOT NULL,
	"decision" text NOT NULL,
	"dataset_digest" text NOT NULL,
	"policy_digest" text NOT NULL,
	"decisions_digest" text NOT NULL,
	"asset_decisions" jsonb NOT NULL,
	"allowed_count" integer NOT NULL,
	"denied_count" integer NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"token_kid" text,
	"created_by" text NOT NULL,
	"audit_index" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_sets" (
	"digest" text PRIMARY KEY NOT NULL,
	"policies" jsonb NOT NULL,
	"first_loaded_at" timestamp with time zone NOT NULL,
	"audit_index" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "assets" ADD COLUMN "c2pa_training_mining" text;--> statement-breakpoint
ALTER TABLE "assets" ADD COLUMN "cawg_training_mining" text;--> statement-breakpoint
ALTER TABLE "license_approvals" ADD CONSTRAINT "license_approvals_license_id_license_versions_id_fk" FOREIGN KEY ("license_id") REFERENCES "public"."license_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dataset_assets" ADD CONSTRAINT "dataset_assets_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dataset_assets" ADD CONSTRAINT "dataset_assets_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clearance_licenses" ADD CONSTRAINT "clearance_licenses_clearance_id_clearances_id_fk" FOREIGN KEY ("clearance_id") REFERENCES "public"."clearances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clearances" ADD CONSTRAINT "clearances_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dataset_assets_asset_idx" ON "dataset_assets" USING btree ("asset_id");--> statement-breakpoint
CREATE INDEX "clearance_licenses_license_idx" ON "clearance_licenses" USING btree ("license_id");--> statement-breakpoint
CREATE INDEX "clearances_vendor_idx" ON "clearances" USING btree ("vendor");--> statement-breakpoint
CREATE INDEX "clearances_dataset_idx" ON "clearances" USING btree ("dataset_id");