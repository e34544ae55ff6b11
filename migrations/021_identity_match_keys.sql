-- identity: which version of the match keys (features and blocking keys, src/identity/features.ts
-- MATCH_KEYS_VERSION) each source record carries. Rows linked before the master patient index
-- (019) have none, and rows keyed by an older version are searched under keys the matcher no
-- longer uses: both are found through this index and recomputed by the backfill, which runs with
-- `sharedcare migrate`, when a server that migrates starts, and by `sharedcare identity reindex`.
ALTER TABLE person_link ADD COLUMN keys_version smallint;
UPDATE person_link SET keys_version = 1 WHERE features IS NOT NULL;
CREATE INDEX person_link_keys_version ON person_link (keys_version);
