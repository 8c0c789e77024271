-- Abuse detection (issue 13). Applied by shared.db.migrate in the counter's schema.

-- Keyed hashes intake put on the action (never a network or a domain itself), so that a
-- confirmed wave can be invalidated by them. No index, as for the ledger's other
-- invalidation criteria: invalidating is rare and may scan.
ALTER TABLE ledger ADD COLUMN network_hash text, ADD COLUMN email_domain_hash text;

-- Waves flagged by a counter process (services/counter/domain/waves.py): one row per
-- case, kind and key, updated while the wave lasts. `resolved_at`: an operator
-- invalidated it; a wave that goes on is flagged again (resolved_at back to NULL).
CREATE TABLE anomalies (
    case_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('network', 'domain', 'source')),
    key text NOT NULL,
    window_actions integer NOT NULL,
    usual_actions double precision NOT NULL,
    peak_actions integer NOT NULL,
    flagged_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    PRIMARY KEY (case_id, kind, key)
);
