-- HL7 v2 intake: every message is landed (stored as received) before it is processed, so any
-- message can be replayed after a mapping fix, and a resent message (same MSH-10 from the same
-- source) is acknowledged again from what was stored, never stored twice. Failed messages are the
-- dead-letter list. Keyed by source, not person: a message is landed before anyone is linked.
CREATE TABLE hl7_message (
  id            bigserial PRIMARY KEY,
  source_id     text NOT NULL REFERENCES source_system (id),
  control_id    text NOT NULL,
  message_type  text NOT NULL,
  received_at   timestamptz NOT NULL,
  raw           text NOT NULL,
  status        text NOT NULL DEFAULT 'landed' CHECK (status IN ('landed', 'processed', 'failed', 'rejected')),
  ack_code      text CHECK (ack_code IN ('AA', 'AE', 'AR')),
  ack           text,
  -- what was wrong, located by segment and field (never the message's content)
  problems      jsonb,
  attempts      integer NOT NULL DEFAULT 0,
  processed_at  timestamptz,
  UNIQUE (source_id, control_id)
);
CREATE INDEX hl7_message_pending ON hl7_message (id) WHERE status = 'landed';
CREATE INDEX hl7_message_dead ON hl7_message (source_id, id) WHERE status IN ('failed', 'rejected');
CREATE INDEX hl7_message_source_received ON hl7_message (source_id, received_at);
