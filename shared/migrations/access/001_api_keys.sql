CREATE TABLE api_keys (
    name text PRIMARY KEY,
    key_hash bytea NOT NULL UNIQUE,
    scopes text[] NOT NULL,
    rate_limit integer NOT NULL CHECK (rate_limit >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
