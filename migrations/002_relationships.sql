-- access: legitimate relationships between a person and an organisation, derived from the data.
-- One row per item that establishes one (keyed by the item, so a changed or withdrawn item
-- changes or removes its relationship); the access decision aggregates them per organisation.
CREATE TABLE relationship_fact (
  item_id    uuid NOT NULL,
  org_ods    text NOT NULL,
  kind       text NOT NULL,
  person_id  uuid NOT NULL,
  at         timestamptz,
  open       boolean NOT NULL,
  PRIMARY KEY (item_id, org_ods, kind)
);
CREATE INDEX relationship_fact_person ON relationship_fact (person_id, org_ods);

-- access: emergency access without a relationship ("break glass"): time-limited, audited, reviewed.
CREATE TABLE break_glass (
  id          uuid PRIMARY KEY,
  person_id   uuid NOT NULL,
  user_id     text NOT NULL,
  user_org    text NOT NULL,
  user_role   text NOT NULL,
  reason      text NOT NULL,
  note        text,
  granted_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX break_glass_person_user ON break_glass (person_id, user_id, expires_at);
