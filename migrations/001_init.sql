-- Sharedcare schema, version 1. Runs unchanged on PostgreSQL 15+ and PGlite.
-- Each block is owned by one module; other modules call that module's functions instead.
-- Everything clinical carries person_id, the future distribution column: no query joins two people.

-- region: the organisations taking part and their source systems
CREATE TABLE organisation (
  ods          text PRIMARY KEY,
  name         text NOT NULL,
  kind         text,
  contributes  boolean NOT NULL,
  views        boolean NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE source_system (
  id               text PRIMARY KEY,
  org_ods          text NOT NULL REFERENCES organisation (ods),
  kind             text NOT NULL CHECK (kind IN ('fhir', 'hl7v2', 'batch')),
  name             text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_received_at timestamptz
);

-- identity: people and which source records are linked to them
CREATE TABLE person (
  id          uuid PRIMARY KEY,
  nhs_number  text UNIQUE,
  verified    boolean NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE person_link (
  source_id      text NOT NULL,
  local_id       text NOT NULL,
  person_id      uuid NOT NULL REFERENCES person (id),
  nhs_number     text,
  link_reason    text NOT NULL,
  content_hash   text NOT NULL,
  demographics   text NOT NULL,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (source_id, local_id)
);
CREATE INDEX person_link_person ON person_link (person_id);

-- store: the person-keyed clinical repository. body is the resource exactly as served (with
-- provenance), kept as text so that allowed rows are sent on without being parsed.
CREATE TABLE clinical_item (
  id                   uuid PRIMARY KEY,
  person_id            uuid NOT NULL,
  resource_type        text NOT NULL,
  section              text NOT NULL,
  source_id            text NOT NULL,
  source_org           text NOT NULL,
  source_local_id      text NOT NULL,
  source_patient_id    text NOT NULL,
  source_version       text,
  source_last_updated  timestamptz,
  version              integer NOT NULL,
  content_hash         text NOT NULL,
  status               text,
  codes                text[] NOT NULL,
  security             text[] NOT NULL,
  sensitivity          text[] NOT NULL,
  effective            timestamptz,
  received_at          timestamptz NOT NULL,
  deleted              boolean NOT NULL DEFAULT false,
  body                 text NOT NULL
);
CREATE INDEX clinical_item_person ON clinical_item (person_id, resource_type) WHERE NOT deleted;

CREATE TABLE clinical_item_version (
  id            uuid NOT NULL,
  version       integer NOT NULL,
  person_id     uuid NOT NULL,
  content_hash  text NOT NULL,
  deleted       boolean NOT NULL,
  body          text NOT NULL,
  superseded_at timestamptz NOT NULL,
  PRIMARY KEY (id, version)
);

-- policy: objections to sharing, and which code-list version labelled the items
CREATE TABLE objection (
  id            uuid PRIMARY KEY,
  person_id     uuid NOT NULL,
  scope         text NOT NULL CHECK (scope IN ('record', 'organisation', 'category', 'item')),
  target        text,
  note          text,
  recorded_by   text NOT NULL,
  recorded_at   timestamptz NOT NULL,
  withdrawn_by  text,
  withdrawn_at  timestamptz
);
CREATE INDEX objection_person ON objection (person_id);

CREATE TABLE policy_state (
  key    text PRIMARY KEY,
  value  text NOT NULL
);

-- audit: append-only, hash-chained. Each row's hash covers the previous row's hash, its
-- sequence number and its canonical event text; audit_head holds the chain's tip.
CREATE TABLE audit_event (
  seq         bigint PRIMARY KEY,
  at          timestamptz NOT NULL,
  action      text NOT NULL,
  outcome     text NOT NULL,
  user_id     text,
  user_org    text,
  person_id   uuid,
  event       text NOT NULL,
  prev_hash   text NOT NULL,
  hash        text NOT NULL
);
CREATE INDEX audit_event_person ON audit_event (person_id, at);
CREATE INDEX audit_event_user ON audit_event (user_id, at);

CREATE TABLE audit_head (
  id    integer PRIMARY KEY CHECK (id = 1),
  seq        bigint NOT NULL,
  prev_hash  text NOT NULL,
  hash       text NOT NULL
);
INSERT INTO audit_head (id, seq, prev_hash, hash) VALUES (1, 0, repeat('0', 64), repeat('0', 64));

CREATE FUNCTION audit_event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only';
END;
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only();
