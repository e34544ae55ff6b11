-- identity: the master patient index. Beside each source record, what the matcher compares
-- (features, normalised JSON) and the blocking keys that find its candidates through an index:
-- the birth date, the surname's phonetic code with the birth year, the postcode.
ALTER TABLE person_link ADD COLUMN features text;
ALTER TABLE person_link ADD COLUMN block_dob text;
ALTER TABLE person_link ADD COLUMN block_name text;
ALTER TABLE person_link ADD COLUMN block_postcode text;
-- the match weight of a probabilistic link, and the person a source merge moved the record from
ALTER TABLE person_link ADD COLUMN match_weight double precision;
ALTER TABLE person_link ADD COLUMN merged_from uuid;
CREATE INDEX person_link_block_dob ON person_link (block_dob);
CREATE INDEX person_link_block_name ON person_link (block_name);
CREATE INDEX person_link_block_postcode ON person_link (block_postcode);

-- pairs scored between the two thresholds, waiting for an administrator: the incoming record and
-- the candidate record it resembles (records, not persons: persons change with merges and splits)
CREATE TABLE identity_review (
  id                   uuid PRIMARY KEY,
  source_id            text NOT NULL,
  local_id             text NOT NULL,
  candidate_source_id  text NOT NULL,
  candidate_local_id   text NOT NULL,
  weight               double precision NOT NULL,
  levels               text NOT NULL,
  status               text NOT NULL CHECK (status IN ('open', 'linked', 'apart')),
  created_at           timestamptz NOT NULL,
  decided_by           text,
  decided_org          text,
  decided_at           timestamptz,
  UNIQUE (source_id, local_id, candidate_source_id, candidate_local_id)
);
CREATE INDEX identity_review_open ON identity_review (created_at) WHERE status = 'open';
CREATE INDEX identity_review_candidate ON identity_review (candidate_source_id, candidate_local_id)
  WHERE status = 'open';

-- decisions remembered, both ways round: records linked or kept apart by a person, never undone
-- by the matcher
CREATE TABLE identity_decision (
  source_id        text NOT NULL,
  local_id         text NOT NULL,
  other_source_id  text NOT NULL,
  other_local_id   text NOT NULL,
  decision         text NOT NULL CHECK (decision IN ('link', 'apart')),
  decided_by       text NOT NULL,
  decided_at       timestamptz NOT NULL,
  PRIMARY KEY (source_id, local_id, other_source_id, other_local_id)
);

-- how common each name is in the region (share of source records), for term-frequency weights;
-- written by `sharedcare identity train`; names held by fewer than 5 records are not kept
CREATE TABLE identity_term_frequency (
  field  text NOT NULL,
  value  text NOT NULL,
  share  double precision NOT NULL,
  PRIMARY KEY (field, value)
);
