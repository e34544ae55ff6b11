-- policy: items linked to a withheld item are withheld too (a result of a withheld test). Each item
-- keeps the clinical items it depends on (basedOn, encounter, reasonReference, …) and the ones it
-- contains (a report's results, a panel's members); NULL means "not derived yet" (rows stored
-- before this migration; the next relabel derives them from the body).
ALTER TABLE clinical_item ADD COLUMN depends_on uuid[];
ALTER TABLE clinical_item ADD COLUMN contains uuid[];
-- the few persons with anything withheld, found without scanning everyone's items
CREATE INDEX clinical_item_labelled ON clinical_item (person_id) WHERE cardinality(sensitivity) > 0;
-- force the next start to relabel (and derive links for) what is already stored
DELETE FROM policy_state WHERE key = 'sensitive-codes-version';

-- policy: an objection records when and how the person asked, and when and how they withdrew it.
ALTER TABLE objection ADD COLUMN requested_on date;
ALTER TABLE objection ADD COLUMN request_source text;
ALTER TABLE objection ADD COLUMN recorder_org text;
ALTER TABLE objection ADD COLUMN withdraw_requested_on date;
ALTER TABLE objection ADD COLUMN withdraw_source text;

-- policy: an objection not upheld, for safeguarding or the public interest only: who decided, why,
-- until when, and the notice that tells the person. Never deleted; ended early by setting ended_at.
CREATE TABLE objection_override (
  id           uuid PRIMARY KEY,
  objection_id uuid NOT NULL REFERENCES objection (id),
  person_id    uuid NOT NULL,
  ground       text NOT NULL CHECK (ground IN ('safeguarding', 'public-interest')),
  reason       text NOT NULL,
  for_org      text,
  decided_by   text NOT NULL,
  decided_role text NOT NULL,
  decided_org  text NOT NULL,
  starts_at    timestamptz NOT NULL,
  ends_at      timestamptz NOT NULL,
  ended_at     timestamptz,
  notice       text NOT NULL,
  CHECK (ends_at > starts_at)
);
CREATE INDEX objection_override_person ON objection_override (person_id, ends_at);

-- The national data opt-out governs secondary use (research, planning), not direct care. It is kept
-- apart from objections, in its own table that the direct-care read path never consults, so the two
-- can never be confused.
CREATE TABLE national_data_opt_out (
  nhs_number  text PRIMARY KEY,
  opted_out   boolean NOT NULL,
  source      text NOT NULL,
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL
);
