-- An append prepared outside the append lock (src/audit/ledger.ts, `Ledger.appendAt`): the caller read the
-- tree at `expected_size`, computed the entry's leaf and the perfect-subtree nodes it completes, and did its
-- slow work (a C2PA signature) holding no lock. This function takes the same lock as every other append,
-- and writes the entry only if the tree is still exactly that size; otherwise nothing is written and it
-- fails with SQLSTATE CF409, and the caller redoes the change under the lock. Since every state change
-- appends an entry in its own transaction, an unchanged size means nothing at all changed since the read.
-- Called as a scalar subquery inside the statement that writes the change's own row, so the row, the entry
-- and its nodes commit together in one round trip.
CREATE FUNCTION clearframe_append_at(expected_size bigint, leaf bytea, node_levels int2[], node_idxs int8[], node_hashes bytea)
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  size bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7245118002);
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
