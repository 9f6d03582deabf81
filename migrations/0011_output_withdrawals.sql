CREATE TABLE "output_withdrawals" (
	"output_id" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"codes" jsonb NOT NULL,
	"withdrawn_at" timestamp with time zone NOT NULL,
	"audit_index" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "output_withdrawals" ADD CONSTRAINT "output_withdrawals_output_id_outputs_id_fk" FOREIGN KEY ("output_id") REFERENCES "public"."outputs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE TRIGGER output_withdrawals_append_only BEFORE UPDATE OR DELETE ON output_withdrawals
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER output_withdrawals_no_truncate BEFORE TRUNCATE ON output_withdrawals
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
