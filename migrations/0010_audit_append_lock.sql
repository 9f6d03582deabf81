-- The append lock and the log's size under it, in one round trip (src/audit/ledger.ts, a batch's first
-- statement). Both cannot be one plain SELECT: its snapshot would be taken before the lock is granted, and
-- could miss an append committed while it waited. Here the size is read by a statement of its own, after
-- the lock, with a new snapshot (READ COMMITTED), as in clearframe_append_at (0009), same lock number.
CREATE FUNCTION clearframe_append_lock()
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  size bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7245118002);
  SELECT coalesce(max(idx) + 1, 0) INTO size FROM audit_events;
  RETURN size;
END
$$;
