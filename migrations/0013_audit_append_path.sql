-- An entry reaches audit_events only through the append path: clearframe_append_lock (0010, a batch's
-- first statement, before src/audit/log-store.ts#writeAppend) or clearframe_append_at (0009). Both take
-- the append lock and mark their transaction (a transaction-local setting); a BEFORE INSERT trigger refuses
-- a row from an unmarked transaction, and a row whose index is not the log's next. A stray row (a plain
-- INSERT, or one with a gap) would otherwise leave entries without their tree nodes, and every later append
-- and signed tree head would fail. A superuser can still disable the trigger: /readyz then reports the log.
CREATE OR REPLACE FUNCTION clearframe_append_lock()
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  size bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7245118002);
  PERFORM set_config('clearframe.append_path', 'on', true);
  SELECT coalesce(max(idx) + 1, 0) INTO size FROM audit_events;
  RETURN size;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION clearframe_append_at(expected_size bigint, leaf bytea, node_levels int2[], node_idxs int8[], node_hashes bytea)
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  size bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7245118002);
  PERFORM set_config('clearframe.append_path', 'on', true);
  -- A new snapshot for this statement: it sees every append committed before the lock was granted.
  SELECT coalesce(max(idx) + 1, 0) INTO size FROM audit_events;
  IF size <> expected_size THEN
    RAISE EXCEPTION 'the audit log has % entries, not the % this change was prepared against', size, expected_size
      USING ERRCODE = 'CF409';
  END IF;
  IF coalesce(array_length(node_levels, 1), 0) <> coalesce(array_length(node_idxs, 1), 0)
     OR length(node_hashes) <> 32 * coalesce(array_length(node_levels, 1), 0) THEN
    RAISE EXCEPTION 'node arrays disagree in length';
  END IF;
  INSERT INTO audit_events (idx, leaf) VALUES (expected_size, leaf);
  INSERT INTO audit_nodes (level, idx, hash)
    SELECT n.level, n.idx, substring(node_hashes FROM (n.o::int - 1) * 32 + 1 FOR 32)
    FROM unnest(node_levels, node_idxs) WITH ORDINALITY AS n(level, idx, o);
  RETURN expected_size;
END
$$;
--> statement-breakpoint
CREATE FUNCTION clearframe_refuse_stray_entry() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  next bigint;
BEGIN
  IF coalesce(current_setting('clearframe.append_path', true), '') <> 'on' THEN
    RAISE EXCEPTION 'clearframe: INSERT on audit_events is refused: entries are appended only through the audit append path (clearframe_append_lock, clearframe_append_at)'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- A row-level BEFORE trigger sees the rows its statement inserted before this one: a batch stays dense.
  SELECT coalesce(max(idx) + 1, 0) INTO next FROM audit_events;
  IF NEW.idx IS DISTINCT FROM next THEN
    RAISE EXCEPTION 'clearframe: audit entry % is refused: the next entry of the log is %', NEW.idx, next
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_path BEFORE INSERT ON audit_events
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_stray_entry();
