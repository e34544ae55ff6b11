-- Person first in every key of the person-distributed tables (docs/scale-out.md): a Citus cluster
-- requires the distribution column in each primary key, unique constraint and foreign key between
-- distributed tables. On one server the new keys serve the same lookups (a person's rows, then the
-- row); item ids stay unique in practice (uuids minted from source and local id), and the store
-- keeps them so: an item moves to another person with its versions, review and facts
-- (src/store/move.ts), never copied.

-- Rows that an earlier merge left behind: versions and review entries kept the person their item
-- had when they were written, while the item itself moved. They follow the item now, as they will
-- from here on (the key puts them with it).
UPDATE clinical_item_version v SET person_id = c.person_id
  FROM clinical_item c WHERE c.id = v.id AND c.person_id <> v.person_id;
UPDATE sensitivity_review r SET person_id = c.person_id
  FROM clinical_item c WHERE c.id = r.item_id AND c.person_id <> r.person_id;
UPDATE relationship_fact f SET person_id = c.person_id
  FROM clinical_item c WHERE c.id = f.item_id AND c.person_id <> f.person_id;
UPDATE objection_override v SET person_id = o.person_id
  FROM objection o WHERE o.id = v.objection_id AND o.person_id <> v.person_id;

ALTER TABLE clinical_item DROP CONSTRAINT clinical_item_pkey;
ALTER TABLE clinical_item ADD CONSTRAINT clinical_item_pkey PRIMARY KEY (person_id, id);
-- a read of one item by its id alone (GET /fhir/Condition/{id}, a source's DELETE) finds its
-- person here first; on Citus, a probe of this index on every shard (docs/scale-out.md)
CREATE INDEX clinical_item_id ON clinical_item (id);
-- the primary key now serves a person's rows
DROP INDEX IF EXISTS clinical_item_person_all;

ALTER TABLE clinical_item_version DROP CONSTRAINT clinical_item_version_pkey;
ALTER TABLE clinical_item_version ADD CONSTRAINT clinical_item_version_pkey PRIMARY KEY (person_id, id, version);

ALTER TABLE objection_override DROP CONSTRAINT objection_override_objection_id_fkey;
ALTER TABLE objection DROP CONSTRAINT objection_pkey;
ALTER TABLE objection ADD CONSTRAINT objection_pkey PRIMARY KEY (person_id, id);
CREATE INDEX objection_id ON objection (id);

ALTER TABLE objection_override DROP CONSTRAINT objection_override_pkey;
ALTER TABLE objection_override ADD CONSTRAINT objection_override_pkey PRIMARY KEY (person_id, id);
CREATE INDEX objection_override_id ON objection_override (id);
-- an objection stays with the person it was recorded for (merges move source records and their
-- items, never objections), so the override's key never changes under it
ALTER TABLE objection_override ADD CONSTRAINT objection_override_objection_fkey
  FOREIGN KEY (person_id, objection_id) REFERENCES objection (person_id, id);

ALTER TABLE break_glass DROP CONSTRAINT break_glass_pkey;
ALTER TABLE break_glass ADD CONSTRAINT break_glass_pkey PRIMARY KEY (person_id, id);

ALTER TABLE relationship_fact DROP CONSTRAINT relationship_fact_pkey;
ALTER TABLE relationship_fact ADD CONSTRAINT relationship_fact_pkey PRIMARY KEY (person_id, item_id, org_ods, kind);

ALTER TABLE sensitivity_review DROP CONSTRAINT sensitivity_review_pkey;
ALTER TABLE sensitivity_review ADD CONSTRAINT sensitivity_review_pkey PRIMARY KEY (person_id, item_id);
-- the review queue's admin decides by item id
CREATE INDEX sensitivity_review_item ON sensitivity_review (item_id);
