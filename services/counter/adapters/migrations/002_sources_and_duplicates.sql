-- Applied by shared.db.migrate with search_path set to the counter's schema.

-- Totals by source (contract v2): the `source` and `hour_source` breakdown rows of what
-- was counted before they existed, from the ledger, by the rule of model.breakdown_keys
-- (actions without a key are "web"; an hour_source key is the hour, a space, the source).
INSERT INTO case_breakdown (case_id, dimension, key, total)
SELECT case_id, 'source', CASE WHEN source = 'anonymous' THEN 'web' ELSE source END,
       sum(count)
FROM ledger WHERE invalidated_at IS NULL GROUP BY 1, 3
ON CONFLICT (case_id, dimension, key) DO NOTHING;

INSERT INTO case_breakdown (case_id, dimension, key, total)
SELECT case_id, 'hour_source',
       to_char(date_trunc('hour', accepted_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"')
       || ' ' || CASE WHEN source = 'anonymous' THEN 'web' ELSE source END,
       sum(count)
FROM ledger WHERE invalidated_at IS NULL GROUP BY 1, 3
ON CONFLICT (case_id, dimension, key) DO NOTHING;

-- Actions that were accepted but added nothing: a signature by a supporter who had already
-- signed the case, under an action_id of its own (GET /v1/actions/{id} reads it as
-- "duplicate"). No personal data: not even the supporter key. A re-sent action_id is not
-- kept here: it is the action already in the ledger.
CREATE TABLE duplicates (
    action_id uuid PRIMARY KEY,
    case_id text NOT NULL,
    source text NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now()
);
