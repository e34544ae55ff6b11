-- policy: an objection belongs to the person, not to a row id. Keep the NHS number it was recorded
-- against, so that it still applies if the person's record is rebuilt under a new id (data that
-- arrives again after retention removed the old record, or identity relinking).
ALTER TABLE objection ADD COLUMN nhs_number text;
UPDATE objection o SET nhs_number = p.nhs_number FROM person p WHERE p.id = o.person_id;
CREATE INDEX objection_nhs_number ON objection (nhs_number) WHERE nhs_number IS NOT NULL;
