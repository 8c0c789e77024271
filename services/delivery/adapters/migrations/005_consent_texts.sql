-- Applied by shared.db.migrate with search_path set to the delivery schema.

-- Proof of consent: the id of the consent text (campaign file) the supporter saw.
ALTER TABLE signatures ADD COLUMN consent_text_id text;
ALTER TABLE unnamed_supporters ADD COLUMN consent_text_id text;
