-- intake: the ids a source gave a resource that a conditional create filed as an item it had
-- stored before (src/ingest/conditional-create.ts). A re-export names everything afresh; the entry
-- is stored as the earlier item, and a later request of the same source may still name it by the
-- id it was sent with this time ("Condition/fresh-id"): without this, that reference named nothing,
-- and a prescription linked to a withheld diagnosis that way was shown. Ids of the source's own,
-- no patient data; keyed like the items (source, type, the source's id).
CREATE TABLE sender_alias (
  source_id       text NOT NULL,
  resource_type   text NOT NULL,
  sender_id       text NOT NULL,
  -- the source_local_id of the item (or source record, for a Patient) the id was filed as
  local_id        text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, resource_type, sender_id)
);
