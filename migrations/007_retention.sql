-- retention: `sharedcare retention run` visits persons in batches and reads or removes all of each
-- one's items, entered-in-error and sensitive ones included. The record-open index covers only
-- shareable rows, so this one covers every row by person (it also serves any whole-person query).
CREATE INDEX clinical_item_person_all ON clinical_item (person_id);
