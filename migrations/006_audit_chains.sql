-- audit: partitioned hash chains, pruning bases, alerts for the data protection officer, and an
-- application role that cannot change the trail. Runs unchanged on PostgreSQL 15+ and PGlite.
-- See docs/audit.md for the design.

-- The trail's identity. Signed checkpoints are kept outside the database in a folder named by it,
-- and it seeds each chain's first hash, so checkpoints of one trail never vouch for another.
CREATE TABLE audit_trail (
  one         boolean PRIMARY KEY DEFAULT true CHECK (one),
  id          uuid NOT NULL,
  chains      integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_trail (id, chains) VALUES (gen_random_uuid(), 16);

-- Chains. Chain 0 holds the events written before this migration (their hashes keep the old form
-- and stay verifiable); new events go to chains 1..16, one chosen per transaction, so concurrent
-- reads advance different heads instead of queueing on one row. seq stays a global row id (from a
-- sequence, which does not serialise); (chain, chain_seq) is the event's place in the evidence.
ALTER TABLE audit_event ADD COLUMN chain smallint NOT NULL DEFAULT 0;
ALTER TABLE audit_event ADD COLUMN chain_seq bigint;
ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only;
UPDATE audit_event SET chain_seq = seq;
ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only;
ALTER TABLE audit_event ALTER COLUMN chain_seq SET NOT NULL;
ALTER TABLE audit_event ALTER COLUMN chain DROP DEFAULT;
-- verification walks each chain in this index alone (index-only scan): no heap visit per event
CREATE UNIQUE INDEX audit_event_chain ON audit_event (chain, chain_seq) INCLUDE (prev_hash, hash);
CREATE SEQUENCE audit_event_seq;
SELECT setval('audit_event_seq', coalesce((SELECT max(seq) FROM audit_event), 0) + 1, false);
ALTER TABLE audit_event ALTER COLUMN seq SET DEFAULT nextval('audit_event_seq');

CREATE TABLE audit_chain_head (
  chain      smallint PRIMARY KEY,
  seq        bigint NOT NULL,
  prev_hash  text NOT NULL,
  hash       text NOT NULL
);
INSERT INTO audit_chain_head (chain, seq, prev_hash, hash)
  SELECT 0, seq, prev_hash, hash FROM audit_head;
INSERT INTO audit_chain_head (chain, seq, prev_hash, hash)
  SELECT c, 0, '', encode(sha256(convert_to('sharedcare:audit-chain:' || t.id::text || ':' || c::text, 'UTF8')), 'hex')
  FROM generate_series(1, 16) AS c, audit_trail t;
DROP TABLE audit_head;

-- Where verification starts on each chain: the genesis (seq 0) until old events are pruned, then
-- the last pruned event's seq and hash, which a signed checkpoint also records.
CREATE TABLE audit_chain_base (
  chain      smallint PRIMARY KEY,
  seq        bigint NOT NULL,
  hash       text NOT NULL,
  pruned_at  timestamptz
);
INSERT INTO audit_chain_base (chain, seq, hash) VALUES (0, 0, repeat('0', 64));
INSERT INTO audit_chain_base (chain, seq, hash) SELECT chain, 0, hash FROM audit_chain_head WHERE chain > 0;

-- Appending one event: advance a chain head (chosen from the transaction id, so one transaction
-- stays on one chain and holds one head lock) and insert the event with the new hash, in one call
-- whose plan the session caches. It also counts the different people the same user touched since
-- p_recent_since, for the many-records alert rule, saving a round trip. The hash formula is
-- src/audit/canonical.ts's (tests check they agree); verification recomputes it with built-ins
-- only, so a replaced function would be caught, not trusted.
CREATE FUNCTION audit_append(
  p_event text, p_at timestamptz, p_action text, p_outcome text, p_user text, p_org text, p_person uuid,
  p_recent_since timestamptz,
  OUT o_seq bigint, OUT o_chain smallint, OUT o_chain_seq bigint, OUT o_hash text,
  OUT o_recent_persons integer, OUT o_recent_seen boolean)
LANGUAGE plpgsql AS $$
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

-- Append-only, as before, except that pruning may remove events at or below a chain's base.
CREATE OR REPLACE FUNCTION audit_event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (
    SELECT 1 FROM audit_chain_base b WHERE b.chain = OLD.chain AND OLD.chain_seq <= b.seq
  ) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_event is append-only';
END;
$$;

CREATE FUNCTION audit_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: it cannot be truncated', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();

-- A base only moves forward and is never removed.
CREATE FUNCTION audit_chain_base_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq OR NEW.chain <> OLD.chain THEN
    RAISE EXCEPTION 'audit_chain_base only moves forward';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER audit_chain_base_forward BEFORE UPDATE OR DELETE ON audit_chain_base
  FOR EACH ROW EXECUTE FUNCTION audit_chain_base_forward_only();
CREATE TRIGGER audit_chain_base_no_truncate BEFORE TRUNCATE ON audit_chain_base
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();

-- Alerts raised by the rules as events arrive (same transaction as the event), for the DPO.
CREATE TABLE audit_alert (
  id           uuid PRIMARY KEY,
  created_at   timestamptz NOT NULL,
  rule         text NOT NULL,
  event_seq    bigint NOT NULL,
  user_id      text,
  user_org     text,
  user_role    text,
  person_id    uuid,
  summary      text NOT NULL,
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'reviewed')),
  reviewed_by  text,
  reviewed_at  timestamptz,
  review_note  text
);
CREATE INDEX audit_alert_status ON audit_alert (status, created_at);
CREATE INDEX audit_alert_recent ON audit_alert (user_id, rule, created_at);

-- The application's role (PostgreSQL; harmless on PGlite): everything it needs, but it can neither
-- update, delete nor truncate the trail, nor move or remove a chain's base. The server uses it
-- with SHAREDCARE_DB_ROLE=sharedcare_app (SET ROLE after migrations; see README). Roles are
-- cluster-wide: another database may have created it already, perhaps at this very moment.
DO $$
BEGIN
  CREATE ROLE sharedcare_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END;
$$;
GRANT USAGE ON SCHEMA public TO sharedcare_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sharedcare_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO sharedcare_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sharedcare_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO sharedcare_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM sharedcare_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_chain_base FROM sharedcare_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_trail FROM sharedcare_app;
REVOKE DELETE, TRUNCATE ON audit_chain_head FROM sharedcare_app;
REVOKE DELETE, TRUNCATE ON audit_alert FROM sharedcare_app;
REVOKE ALL ON audit_event, audit_chain_base, audit_chain_head, audit_trail, audit_alert FROM PUBLIC;
