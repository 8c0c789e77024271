-- Applied by shared.db.migrate with search_path set to the delivery schema.

-- Who acknowledged a dossier's hand-over, when, and their note (contract v2).
ALTER TABLE dossiers
    ADD COLUMN acknowledged_by text,
    ADD COLUMN acknowledged_at timestamptz,
    ADD COLUMN ack_note text;

-- Listing pages walk (created_at, id); the audit trail walks downloads by id, per dossier.
CREATE INDEX dossiers_listing ON dossiers (created_at, id);
CREATE INDEX downloads_by_dossier ON downloads (dossier_id, id);

-- The delivery console's sessions: only the SHA-256 of the cookie's token is stored, so a
-- copy of this table signs nobody in. Signing out deletes the row.
CREATE TABLE console_sessions (
    token_hash bytea PRIMARY KEY,
    key_name text NOT NULL,
    scopes text[] NOT NULL,
    csrf_token text NOT NULL,
    expires_at timestamptz NOT NULL
);
