-- Applied by shared.db.migrate with search_path set to the counter's schema.

-- Every action counted, once. Invalidated entries stay so a replay cannot count them again.
CREATE TABLE ledger (
    action_id uuid PRIMARY KEY,
    case_id text NOT NULL,
    type text NOT NULL,
    channel text NOT NULL,
    country text NOT NULL,
    count integer NOT NULL CHECK (count > 0),
    supporter_key text,           -- signatures only: the keyed hash intake computed
    source text NOT NULL,
    accepted_at timestamptz NOT NULL,
    counted_at timestamptz NOT NULL DEFAULT now(),
    invalidated_at timestamptz
);
-- A signature counts once per supporter and case.
CREATE UNIQUE INDEX ledger_one_signature ON ledger (case_id, supporter_key)
    WHERE supporter_key IS NOT NULL;
-- No index for invalidate/recount: they are rare and may scan; every index slows the
-- insert of every counted action.

CREATE TABLE case_totals (
    case_id text PRIMARY KEY,
    total bigint NOT NULL,
    revision bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- dimension: type | country | channel | hour (key = UTC hour, ISO 8601)
CREATE TABLE case_breakdown (
    case_id text NOT NULL,
    dimension text NOT NULL,
    key text NOT NULL,
    total bigint NOT NULL,
    PRIMARY KEY (case_id, dimension, key)
);

-- Milestones reached; rows with published_at NULL are the outbox of announcements.
CREATE TABLE milestones_reached (
    case_id text NOT NULL,
    milestone bigint NOT NULL,
    event_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    campaign_id text NOT NULL,
    total bigint NOT NULL,
    reached_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    PRIMARY KEY (case_id, milestone)
);
CREATE INDEX milestones_unpublished ON milestones_reached (reached_at)
    WHERE published_at IS NULL;
