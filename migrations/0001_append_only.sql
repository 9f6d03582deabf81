-- The ledger is append-only: the database itself refuses to change or remove a written row,
-- whatever the application does. Tampering needs a superuser to disable these triggers,
-- and the Merkle tree makes that visible.
CREATE FUNCTION clearframe_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'clearframe: % on % is refused: this table is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_nodes_append_only BEFORE UPDATE OR DELETE ON audit_nodes
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
-- License terms are never overwritten either: amendments and revocations are new rows.
CREATE TRIGGER assets_append_only BEFORE UPDATE OR DELETE ON assets
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER assets_no_truncate BEFORE TRUNCATE ON assets
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER license_versions_append_only BEFORE UPDATE OR DELETE ON license_versions
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER license_versions_no_truncate BEFORE TRUNCATE ON license_versions
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER license_revocations_append_only BEFORE UPDATE OR DELETE ON license_revocations
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER license_revocations_no_truncate BEFORE TRUNCATE ON license_revocations
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER service_keys_append_only BEFORE UPDATE OR DELETE ON service_keys
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER service_keys_no_truncate BEFORE TRUNCATE ON service_keys
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
