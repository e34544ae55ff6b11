-- Practitioners and Medications a source sends with its items (issue 15: `_include`). They are
-- directory entries, not a person's data: keyed by Sharedcare's id for (source, type, local id),
-- stored once per source however many people's items refer to them, and served only as the
-- `_include` of an item the reader was served. Codes and security labels sit beside the body so
-- the read can classify an entry by the same policy as the items (an antiretroviral Medication is
-- never served). On Citus this is a reference table (docs/scale-out.md).
CREATE TABLE directory_entry (
  id              uuid PRIMARY KEY,
  resource_type   text NOT NULL,
  source_id       text NOT NULL,
  source_org      text NOT NULL,
  source_local_id text NOT NULL,
  codes           text[] NOT NULL,
  security        text[] NOT NULL,
  content_hash    text NOT NULL,
  received_at     timestamptz NOT NULL,
  body            text NOT NULL
);
