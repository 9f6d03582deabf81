CREATE TABLE "tuning_job_states" (
	"job_id" text NOT NULL,
	"seq" integer NOT NULL,
	"state" text NOT NULL,
	"error" jsonb,
	"tuned_model" jsonb,
	"observed_at" timestamp with time zone NOT NULL,
	"audit_index" bigint NOT NULL,
	CONSTRAINT "tuning_job_states_job_id_seq_pk" PRIMARY KEY("job_id","seq")
);
--> statement-breakpoint
CREATE TABLE "tuning_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"clearance_id" text NOT NULL,
	"vendor" text NOT NULL,
	"base_model" text NOT NULL,
	"training_data_uri" text NOT NULL,
	"validation_data_uri" text,
	"hyperparameters" jsonb,
	"display_name" text,
	"vertex_job_name" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"audit_index" bigint NOT NULL,
	CONSTRAINT "tuning_jobs_vertex_job_name_unique" UNIQUE("vertex_job_name")
);
--> statement-breakpoint
CREATE TABLE "checkpoint_status_events" (
	"checkpoint_id" text NOT NULL,
	"seq" integer NOT NULL,
	"status" text NOT NULL,
	"cause" jsonb NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"audit_index" bigint NOT NULL,
	CONSTRAINT "checkpoint_status_events_checkpoint_id_seq_pk" PRIMARY KEY("checkpoint_id","seq")
);
--> statement-breakpoint
CREATE TABLE "checkpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"clearance_id" text NOT NULL,
	"dataset_id" text NOT NULL,
	"dataset_digest" text NOT NULL,
	"base_model" text NOT NULL,
	"vendor" text NOT NULL,
	"source" text NOT NULL,
	"tuning_job_id" text,
	"external_ref" text,
	"artifact_digest" text,
	"vertex_model" text,
	"vertex_endpoint" text,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"audit_index" bigint NOT NULL,
	CONSTRAINT "checkpoints_tuning_job_id_unique" UNIQUE("tuning_job_id")
);
--> statement-breakpoint
ALTER TABLE "tuning_job_states" ADD CONSTRAINT "tuning_job_states_job_id_tuning_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."tuning_jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tuning_jobs" ADD CONSTRAINT "tuning_jobs_clearance_id_clearances_id_fk" FOREIGN KEY ("clearance_id") REFERENCES "public"."clearances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkpoint_status_events" ADD CONSTRAINT "checkpoint_status_events_checkpoint_id_checkpoints_id_fk" FOREIGN KEY ("checkpoint_id") REFERENCES "public"."checkpoints"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkpoints" ADD CONSTRAINT "checkpoints_clearance_id_clearances_id_fk" FOREIGN KEY ("clearance_id") REFERENCES "public"."clearances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkpoints" ADD CONSTRAINT "checkpoints_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tuning_jobs_clearance_idx" ON "tuning_jobs" USING btree ("clearance_id");--> statement-breakpoint
CREATE INDEX "checkpoints_clearance_idx" ON "checkpoints" USING btree ("clearance_id");--> statement-breakpoint
CREATE INDEX "checkpoints_dataset_idx" ON "checkpoints" USING btree ("dataset_id");