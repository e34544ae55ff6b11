-- store: a record open reads one person's current, shareable items newest first. An index in that
-- order lets PostgreSQL stream them instead of sorting every row (bodies included) of a heavy
-- record. Its predicate is the store's fixed filter (not deleted, no sensitivity label), so the
-- planner knows every indexed row qualifies; it also serves section searches.
DROP INDEX clinical_item_person;
CREATE INDEX clinical_item_person_timeline ON clinical_item (person_id, effective DESC NULLS LAST, id)
  WHERE NOT deleted AND cardinality(sensitivity) = 0;
