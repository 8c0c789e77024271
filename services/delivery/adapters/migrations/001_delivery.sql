-- Applied by shared.db.migrate with search_path set to the delivery schema.

-- Consenting signatures: one per supporter and case. cut_id NULL = pending.
CREATE TABLE signatures (
    id bigserial PRIMARY KEY,
    case_id text NOT NULL,
    supporter_key text NOT NULL,
    name text NOT NULL,
    country text NOT NULL,
    signed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    cut_id bigint,
    UNIQUE (case_id, supporter_key)
);
CREATE INDEX signatures_pending ON signatures (case_id, id) WHERE cut_id IS NULL;
CREATE INDEX signatures_by_cut ON signatures (cut_id, id) WHERE cut_id IS NOT NULL;

-- Signatures without consent to share the name: counted on the cover, never named.
CREATE TABLE unnamed_supporters (
    case_id text NOT NULL,
    supporter_key text NOT NULL,
    country text NOT NULL,
    cut_id bigint,
    PRIMARY KEY (case_id, supporter_key)
);
CREATE INDEX unnamed_pending ON unnamed_supporters (case_id) WHERE cut_id IS NULL;

CREATE TABLE solidarity_messages (
    id bigserial PRIMARY KEY,
    action_id uuid NOT NULL UNIQUE,
    case_id text NOT NULL,
    first_name text,
    country text NOT NULL,
    message text NOT NULL,
    written_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    cut_id bigint
);
CREATE INDEX solidarity_pending ON solidarity_messages (case_id, id) WHERE cut_id IS NULL;
CREATE INDEX solidarity_by_cut ON solidarity_messages (cut_id, id) WHERE cut_id IS NOT NULL;

-- One cut seals a case's pending items; its dossiers (one per target) share them.
CREATE TABLE cuts (
    id bigserial PRIMARY KEY,
    case_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('signatures', 'solidarity')),
    reason text NOT NULL,
    count int NOT NULL,
    by_country jsonb NOT NULL,
    further_supporters int NOT NULL DEFAULT 0,
    further_countries int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dossiers (
    id uuid PRIMARY KEY,
    cut_id bigint NOT NULL REFERENCES cuts (id),
    case_id text NOT NULL,
    target_id text NOT NULL,
    kind text NOT NULL,
    target jsonb NOT NULL,          -- snapshot of the target (name, language, delivery)
    case_snapshot jsonb NOT NULL,   -- case name and summaries as they were at the cut
    count int NOT NULL,
    by_country jsonb NOT NULL,
    status text NOT NULL DEFAULT 'sealed',
    attempts int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    files jsonb,                    -- {file name: sha256} once rendered
    rendered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (cut_id, target_id)
);
CREATE INDEX dossiers_case ON dossiers (case_id, created_at);
CREATE INDEX dossiers_unrendered ON dossiers (created_at) WHERE rendered_at IS NULL;
CREATE INDEX dossiers_to_send ON dossiers (next_attempt_at)
    WHERE status IN ('sealed', 'failed') AND rendered_at IS NOT NULL;

-- Every download of a file holding personal data: who (key name), when, which file.
CREATE TABLE downloads (
    id bigserial PRIMARY KEY,
    dossier_id uuid NOT NULL REFERENCES dossiers (id),
    key_name text NOT NULL,
    file text NOT NULL,
    downloaded_at timestamptz NOT NULL DEFAULT now()
);

-- Status changes waiting to be published to plume.dossiers.v1.
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    dossier_id uuid NOT NULL REFERENCES dossiers (id),
    status text NOT NULL,
    attempts int NOT NULL DEFAULT 0,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
