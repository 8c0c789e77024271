-- Applied by shared.db.migrate with search_path set to the supporters schema.

-- What keeps a data key (delivery's key retention, services/delivery/domain/key_retention.py):
-- when intake last sealed with it (recorded at least every shared.data_keys.RECORD_USE_EVERY_S
-- while it is used), and since when its supporter consents to be contacted (set by the first
-- action with `consent.contact`; only an erasure ends it).
ALTER TABLE data_keys
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN contact_consented_at timestamptz;
UPDATE data_keys SET last_used_at = created_at;
ALTER TABLE data_keys
    ALTER COLUMN last_used_at SET NOT NULL,
    ALTER COLUMN last_used_at SET DEFAULT now();
-- The retention job's walk: keys without consent to contact, oldest use first.
CREATE INDEX data_keys_unused ON data_keys (last_used_at, key_id)
    WHERE contact_consented_at IS NULL;
