-- policy: every clinical item an item refers to, anywhere in it, so that a shown item never points
-- at a withheld one (a shown report's reference to its withheld result is removed as it is served).
-- Clearing depends_on makes the next start derive links and references again from the bodies.
ALTER TABLE clinical_item ADD COLUMN refs uuid[];
UPDATE clinical_item SET depends_on = NULL;
DELETE FROM policy_state WHERE key = 'sensitive-codes-version';
