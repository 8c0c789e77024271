-- Applied by shared.db.migrate with search_path set to the supporters schema.

-- One data key per supporter, wrapped by the master key. `key_id` is the supporter's id on
-- the wire (the action's supporter_key); `lookup` is intake's keyed hash of the email, how
-- intake finds the key. Deleting the row is the erasure: whatever the key sealed is lost.
CREATE TABLE data_keys (
    key_id text PRIMARY KEY,
    lookup text NOT NULL UNIQUE,
    wrapped bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Erasure receipts (never the email). `subjects` are the supporter's ids each service
-- scrubs its rows by; emptied once no service is `pending` any more.
CREATE TABLE erasures (
    receipt_id uuid PRIMARY KEY,
    requested_at timestamptz NOT NULL DEFAULT now(),
    requested_by text NOT NULL,
    key_destroyed boolean NOT NULL,
    subjects text[] NOT NULL,
    pending text[] NOT NULL,
    report jsonb NOT NULL DEFAULT '{}',
    completed_at timestamptz
);
CREATE INDEX erasures_pending ON erasures (requested_at) WHERE completed_at IS NULL;
