-- identity: match keys version 4. Each blocking key pairs two fields (birth date and surname code,
-- birth date and first-name code, birth date and postcode, postcode and first-name code, surname
-- and first-name codes with the birth year: src/identity/features.ts blockingKeys), held in one
-- array and found through one GIN index. The single-field keys of version 3 (birth date and sex,
-- postcode and sex, surname code and birth month) made blocks of ~28, ~22 and ~10 records at
-- 1,000,000 persons: a decision read ~83 candidates, most of them pages not in memory.
--
-- fastupdate off: a GIN index's pending list is read in full by every search, and decisions search
-- it on every intake; each insert adds its entries to the index at once instead.
--
-- block_dob stays, the birth date alone (searches by birth date); the other two keys go. Rows of an
-- older version get their keys from backfillMatchKeys (at start, or `sharedcare identity reindex`).
ALTER TABLE person_link ADD COLUMN block_keys text[];
CREATE INDEX person_link_block_keys ON person_link USING gin (block_keys) WITH (fastupdate = off);
DROP INDEX person_link_block_name;
DROP INDEX person_link_block_postcode;
ALTER TABLE person_link DROP COLUMN block_name;
ALTER TABLE person_link DROP COLUMN block_postcode;
