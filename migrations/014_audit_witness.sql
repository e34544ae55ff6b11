-- audit: the signed checkpoints recorded in the database as a chain of their own; alerts bound to
-- the trail; alert reviews append-only. Runs unchanged on PostgreSQL 15+ and PGlite.
-- See docs/audit.md, "What verification detects, and what it cannot".

-- Refuses any change to a row of an append-only table (pruning is the only exception, and it
-- has its own trigger on audit_event).
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

-- Every signed checkpoint, as it was written: its number, time, the SHA-256 of the checkpoint
-- file (the JWS text) and of the one before it, and the key that signed it. `audit verify` walks
-- these rows (a gap is a removed record) and expects each one's file (a missing file is a deleted
-- checkpoint, the latest one included), and the witnesses' copies.
CREATE TABLE audit_checkpoint (
  n        bigint PRIMARY KEY,
  at       timestamptz NOT NULL,
  hash     text NOT NULL,
  prev     text,
  key_id   text NOT NULL
);
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();

-- Alerts: each one raised from now on is also an `audit.alert` event in the trail (same
-- transaction), whose text carries a digest of the alert row; the row says where that event is.
-- Alerts never change and are never removed; their review is a row of its own.
ALTER TABLE audit_alert ADD COLUMN record_chain smallint;
ALTER TABLE audit_alert ADD COLUMN record_seq bigint;
CREATE UNIQUE INDEX audit_alert_record ON audit_alert (record_chain, record_seq);
CREATE INDEX audit_alert_created ON audit_alert (created_at);

-- A review of an alert, once: appended, never changed. The alert is open while it has none. Each
-- one is recorded by an `audit.alert-review` event (same transaction) carrying its digest.
CREATE TABLE audit_alert_review (
  alert_id      uuid PRIMARY KEY REFERENCES audit_alert (id),
  at            timestamptz NOT NULL,
  reviewed_by   text NOT NULL,
  note          text NOT NULL,
  record_chain  smallint,
  record_seq    bigint
);
CREATE UNIQUE INDEX audit_alert_review_record ON audit_alert_review (record_chain, record_seq);

-- Reviews made before this migration: their event is the first `audit.alert-review` naming the
-- alert (one pass over the trail).
INSERT INTO audit_alert_review (alert_id, at, reviewed_by, note, record_chain, record_seq)
  SELECT a.id, coalesce(a.reviewed_at, a.created_at), coalesce(a.reviewed_by, ''), coalesce(a.review_note, ''),
         e.chain, e.chain_seq
  FROM audit_alert a
  LEFT JOIN (
    SELECT DISTINCT ON (alert_id) alert_id, chain, chain_seq FROM (
      SELECT substring(event FROM '"detail":"alert ([0-9a-f-]{36}) ') AS alert_id, chain, chain_seq, seq
      FROM audit_event WHERE action = 'audit.alert-review') r
    WHERE alert_id IS NOT NULL ORDER BY alert_id, seq) e ON e.alert_id = a.id::text
  WHERE a.status = 'reviewed';

ALTER TABLE audit_alert DROP COLUMN status;
ALTER TABLE audit_alert DROP COLUMN reviewed_by;
ALTER TABLE audit_alert DROP COLUMN reviewed_at;
ALTER TABLE audit_alert DROP COLUMN review_note;

CREATE TRIGGER audit_alert_append_only BEFORE UPDATE OR DELETE ON audit_alert
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_alert_no_truncate BEFORE TRUNCATE ON audit_alert
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_alert_review_append_only BEFORE UPDATE OR DELETE ON audit_alert_review
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_alert_review_no_truncate BEFORE TRUNCATE ON audit_alert_review
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();

-- The application's role reads and appends these tables, and nothing more.
REVOKE ALL ON audit_alert, audit_alert_review, audit_checkpoint FROM sharedcare_app;
GRANT SELECT, INSERT ON audit_alert, audit_alert_review, audit_checkpoint TO sharedcare_app;
REVOKE ALL ON audit_alert_review, audit_checkpoint FROM PUBLIC;
