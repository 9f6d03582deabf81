CREATE TABLE "audit_events" (
	"idx" bigint PRIMARY KEY NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"actor_sub" text NOT NULL,
	"actor_role" text NOT NULL,
	"action" text NOT NULL,
	"subject_id" text NOT NULL,
	"content" jsonb NOT NULL,
	"leaf" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_nodes" (
	"level" smallint NOT NULL,
	"idx" bigint NOT NULL,
	"hash" "bytea" NOT NULL,
	CONSTRAINT "audit_nodes_level_idx_pk" PRIMARY KEY("level","idx")
);
--> statement-breakpoint
CREATE TABLE "assets" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"sha256" text NOT NULL,
	"title" text NOT NULL,
	"media_type" text NOT NULL,
	"creator" text NOT NULL,
	"production" text NOT NULL,
	"source_uri" text,
	"rights_holder" text,
	"byte_size" bigint,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"audit_index" bigint NOT NULL,
	CONSTRAINT "assets_seq_unique" UNIQUE("seq")
);
--> statement-breakpoint
CREATE TABLE "license_revocations" (
	"id" text PRIMARY KEY NOT NULL,
	"license_id" text NOT NULL,
	"reason" text NOT NULL,
	"revoked_at" timestamp with time zone NOT NULL,
	"revoked_by" text NOT NULL,
	"audit_index" bigint NOT NULL,
	CONSTRAINT "license_revocations_license_id_unique" UNIQUE("license_id")
);
--> statement-breakpoint
CREATE TABLE "license_versions" (
	"id" text PRIMARY KEY NOT NULL,
	"asset_id" text NOT NULL,
	"version" integer NOT NULL,
	"supersedes_id" text,
	"licensor" text NOT NULL,
	"licensee" text NOT NULL,
	"vendors" jsonb NOT NULL,
	"grant_training" text NOT NULL,
	"grant_derivatives" text NOT NULL,
	"grant_commercial" text NOT NULL,
	"territories" jsonb NOT NULL,
	"media" jsonb NOT NULL,
	"base_model_families" jsonb,
	"term_start" timestamp with time zone NOT NULL,
	"term_end" timestamp with time zone NOT NULL,
	"exclusivity" boolean NOT NULL,
	"attribution" text,
	"contract_ref_id" text,
	"contract_ref_sha256" text,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"audit_index" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"purpose" text NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"audit_index" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "license_revocations" ADD CONSTRAINT "license_revocations_license_id_license_versions_id_fk" FOREIGN KEY ("license_id") REFERENCES "public"."license_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "license_versions" ADD CONSTRAINT "license_versions_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_events_subject_idx" ON "audit_events" USING btree ("subject_id");--> statement-breakpoint
CREATE UNIQUE INDEX "assets_production_sha256_key" ON "assets" USING btree ("production","sha256");--> statement-breakpoint
CREATE INDEX "assets_rights_holder_idx" ON "assets" USING btree ("rights_holder");--> statement-breakpoint
CREATE UNIQUE INDEX "license_versions_asset_version_key" ON "license_versions" USING btree ("asset_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "license_versions_supersedes_key" ON "license_versions" USING btree ("supersedes_id");