-- Gate records are evidence too: the database refuses to change or remove them.
CREATE TRIGGER license_approvals_append_only BEFORE UPDATE OR DELETE ON license_approvals
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER license_approvals_no_truncate BEFORE TRUNCATE ON license_approvals
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER datasets_append_only BEFORE UPDATE OR DELETE ON datasets
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER datasets_no_truncate BEFORE TRUNCATE ON datasets
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER dataset_assets_append_only BEFORE UPDATE OR DELETE ON dataset_assets
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER dataset_assets_no_truncate BEFORE TRUNCATE ON dataset_assets
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER clearances_append_only BEFORE UPDATE OR DELETE ON clearances
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER clearances_no_truncate BEFORE TRUNCATE ON clearances
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER clearance_licenses_append_only BEFORE UPDATE OR DELETE ON clearance_licenses
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER clearance_licenses_no_truncate BEFORE TRUNCATE ON clearance_licenses
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER policy_sets_append_only BEFORE UPDATE OR DELETE ON policy_sets
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER policy_sets_no_truncate BEFORE TRUNCATE ON policy_sets
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
