-- Bulk imports (src/imports): a job's options, state, counts and error rows. Bookkeeping, updated as the
-- import runs; what it registers is written by the assets and licenses services, each with its audit entry.
CREATE TABLE "import_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"production" text NOT NULL,
	"state" text NOT NULL,
	"dry_run" boolean NOT NULL,
	"skip_errors" boolean NOT NULL,
	"amend" boolean NOT NULL,
	"sheet_name" text NOT NULL,
	"sheet_sha256" text NOT NULL,
	"counts" jsonb NOT NULL,
	"errors_csv" text,
	"message" text,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"runner" text,
	"updated_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "import_jobs_production_idx" ON "import_jobs" USING btree ("production");
