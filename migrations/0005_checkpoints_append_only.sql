-- Jobs, checkpoints and their status history are append-only: a change is a new row.
CREATE TRIGGER tuning_jobs_append_only BEFORE UPDATE OR DELETE ON tuning_jobs
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER tuning_jobs_no_truncate BEFORE TRUNCATE ON tuning_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER tuning_job_states_append_only BEFORE UPDATE OR DELETE ON tuning_job_states
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER tuning_job_states_no_truncate BEFORE TRUNCATE ON tuning_job_states
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER checkpoint_status_events_append_only BEFORE UPDATE OR DELETE ON checkpoint_status_events
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER checkpoint_status_events_no_truncate BEFORE TRUNCATE ON checkpoint_status_events
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
