-- identity: one record's linking decision reads in one round trip instead of two.
--
-- A decision for one record (intake's usual case) was three statements: its prior link with the
-- decision's locks, the reads (candidates sharing a blocking key, the persons holding its NHS
-- number and their records, remembered decisions, name counts), and the write. On two shared
-- vCPUs each round trip costs more than the work it carries, and the tail of a decision is its
-- waits (BENCHMARKS.md, identity). The first two cannot be one plain statement: a statement reads
-- in the snapshot it started with, so a read in the same statement as the locks would not see what
-- a decision holding them committed while this one waited (two sources sending the same new person
-- at once would make two persons). A function can: in READ COMMITTED, each statement of a VOLATILE
-- plpgsql function takes a new snapshot, so the reads after PERFORM … pg_advisory_xact_lock see
-- every decision that released those locks.
--
-- The statements are those of src/identity/priors.ts and src/identity/decision-reads.ts (one
-- record), unchanged in what they read; plpgsql caches each one's plan as a prepared statement
-- would (generic after five executions; '' rather than NULL for an absent value, so that custom
-- plans have nothing to fold away and the generic one is kept).
--
-- Returns the prior link (a JSON object, or NULL) and, unless the record is unchanged (its prior
-- has p_hash), the reads as JSON texts, as decision-reads.ts decodes them.
CREATE FUNCTION identity_decision_read(
  p_source text, p_local text, p_hash text, p_locks text[],
  p_probes text[], p_trusted boolean, p_nhs text, p_person_nhs boolean, p_family text, p_given text,
  OUT o_prior text, OUT o_candidates text, OUT o_by_nhs text, OUT o_nhs_records text,
  OUT o_remembered text, OUT o_tf text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_hash text;
BEGIN
  SELECT json_build_object('local_id', l.local_id, 'person_id', l.person_id, 'content_hash', l.content_hash,
                           'nhs_number', l.nhs_number, 'link_reason', l.link_reason,
                           'person_nhs', p.nhs_number, 'merged_from', l.merged_from)::text,
         l.content_hash
    INTO o_prior, v_hash
    FROM person_link l JOIN person p ON p.id = l.person_id
   WHERE l.source_id = p_source AND l.local_id = p_local;
  IF v_hash = p_hash THEN
    RETURN; -- unchanged: nothing to decide, nothing to lock
  END IF;
  -- one order (by hash), as src/identity/index-store.ts lockBlockingKeys takes a batch's
  PERFORM count(pg_advisory_xact_lock(h)) FROM
    (SELECT DISTINCT hashtextextended(k, 19) AS h FROM unnest(p_locks) AS k WHERE k <> '' ORDER BY 1) AS s;
  -- a new snapshot from here: what a decision that held these locks committed is seen. One
  -- statement, as decision-reads.ts sends it for a batch.
  SELECT
    (SELECT coalesce(json_agg(json_build_array(c.source_id, c.local_id, c.person_id, c.person_nhs,
              c.features::json)), '[]')::text
       FROM (SELECT l.source_id, l.local_id, l.person_id, l.features,
                    CASE WHEN p_person_nhs THEN (SELECT p.nhs_number FROM person p WHERE p.id = l.person_id) END
                      AS person_nhs
               FROM person_link l
              WHERE l.block_keys && p_probes AND l.features IS NOT NULL
                AND NOT (p_trusted AND EXISTS (SELECT 1 FROM person q WHERE q.nhs_number = p_nhs))
             OFFSET 0) AS c
      WHERE NOT p_trusted OR c.person_nhs IS NULL),
    (SELECT coalesce(json_agg(json_build_array(p.nhs_number, p.id)), '[]')::text
       FROM person p WHERE p.nhs_number = p_nhs),
    (SELECT coalesce(json_agg(json_build_array(l.source_id, l.local_id, l.person_id, p.nhs_number,
              l.features::json)), '[]')::text
       FROM person p JOIN person_link l ON l.person_id = p.id
      WHERE p.nhs_number = p_nhs AND l.features IS NOT NULL),
    (SELECT coalesce(json_agg(json_build_array(d.local_id, d.other_source_id || '|' || d.other_local_id,
              d.decision, l.person_id)), '[]')::text
       FROM identity_decision d
       LEFT JOIN person_link l ON l.source_id = d.other_source_id AND l.local_id = d.other_local_id
      WHERE d.source_id = p_source AND d.local_id = p_local),
    (SELECT coalesce(json_agg(json_build_array(t.field, t.value, t.share)), '[]')::text
       FROM identity_term_frequency t
      WHERE (t.field = 'family' AND t.value = p_family) OR (t.field = 'given' AND t.value = p_given))
    INTO o_candidates, o_by_nhs, o_nhs_records, o_remembered, o_tf;
END
$$;
