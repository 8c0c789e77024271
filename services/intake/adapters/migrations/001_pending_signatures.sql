-- Applied by shared.db.migrate with search_path set to the intake schema.

-- Signatures held until their supporter confirms them (campaigns with confirm_signatures).
-- The email and the link's token are kept only until the request is mailed; the event
-- only until it is confirmed (then published); a row is erased at its expiry.
CREATE TABLE pending_signatures (
    action_id uuid PRIMARY KEY,
    case_id text NOT NULL,
    supporter_key text,
    event jsonb,
    email text,
    language text NOT NULL,
    token text,
    token_hash text NOT NULL UNIQUE,
    held_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    mailed_at timestamptz,
    mail_lease_until timestamptz,  -- claimed by one intake process for sending
    confirmed_at timestamptz
);
CREATE INDEX pending_unmailed ON pending_signatures (held_at)
    WHERE mailed_at IS NULL AND confirmed_at IS NULL;
CREATE INDEX pending_expiry ON pending_signatures (expires_at);
CREATE INDEX pending_by_supporter ON pending_signatures (supporter_key);
