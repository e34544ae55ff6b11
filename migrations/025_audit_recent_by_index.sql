-- The many-records count of audit_append (migration 006) must read only the user's newest 500
-- events. With the table's statistics behind a busy trail (a user's events since p_recent_since
-- estimated at 92 rows, 8,907 found), the statement's plan was a bitmap scan of all of them and a
-- sort (21 ms, EXPLAIN ANALYZE of the statement on the soak's database after two minutes), and the
-- database's CPU per 10 s of the soak rose from 2.6 to 6.9 s in three minutes; with bitmap scans
-- off inside the function, the count reads the (user_id, at) index backwards and stops at 500 rows
-- (auto_explain: 0.5-1 ms), and the database's CPU stays at 2.4-3.0 s (BENCHMARKS.md, soak).
-- Everything else is the function as migration 006 wrote it: the hash formula is unchanged
-- (verification recomputes it with built-ins only, and tests check it against canonical.ts).
CREATE OR REPLACE FUNCTION audit_append(
  p_event text, p_at timestamptz, p_action text, p_outcome text, p_user text, p_org text, p_person uuid,
  p_recent_since timestamptz,
  OUT o_seq bigint, OUT o_chain smallint, OUT o_chain_seq bigint, OUT o_hash text,
  OUT o_recent_persons integer, OUT o_recent_seen boolean)
LANGUAGE plpgsql
-- the one plan worth having for the count: the (user_id, at) index read backwards, stopping at 500
SET enable_bitmapscan = off
AS $$
DECLARE
  v_prev text;
BEGIN
  IF p_recent_since IS NOT NULL AND p_user IS NOT NULL THEN
    SELECT count(DISTINCT r.person_id)::integer, coalesce(bool_or(r.person_id = p_person), false)
      INTO o_recent_persons, o_recent_seen
      FROM (SELECT e.person_id FROM audit_event e
            WHERE e.user_id = p_user AND e.at >= p_recent_since AND e.person_id IS NOT NULL
            ORDER BY e.at DESC LIMIT 500) r;
  END IF;
  UPDATE audit_chain_head h
     SET seq = h.seq + 1, prev_hash = h.hash,
         hash = pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
           h.hash || '|' || (h.seq + 1)::text || '|' || (round(pg_catalog.date_part('epoch', p_at) * 1000)::bigint)::text || '|' ||
           coalesce(pg_catalog.octet_length(p_action)::text || ':' || p_action, '~') || '|' ||
           coalesce(pg_catalog.octet_length(p_outcome)::text || ':' || p_outcome, '~') || '|' ||
           coalesce(pg_catalog.octet_length(p_user)::text || ':' || p_user, '~') || '|' ||
           coalesce(pg_catalog.octet_length(p_person::text)::text || ':' || p_person::text, '~') || '|' ||
           p_event, 'UTF8')), 'hex')
   WHERE h.chain = 1 + (pg_catalog.txid_current() % 16)
   RETURNING h.chain, h.seq, h.prev_hash, h.hash INTO o_chain, o_chain_seq, v_prev, o_hash;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit chain head is missing';
  END IF;
  INSERT INTO audit_event (chain, chain_seq, at, action, outcome, user_id, user_org, person_id, event, prev_hash, hash)
  VALUES (o_chain, o_chain_seq, p_at, p_action, p_outcome, p_user, p_org, p_person, p_event, v_prev, o_hash)
  RETURNING seq INTO o_seq;
END;
$$;
