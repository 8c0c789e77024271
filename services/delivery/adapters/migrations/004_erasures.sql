-- Applied by shared.db.migrate with search_path set to the delivery schema.

-- An erasure (shared/erasures.py) finds a supporter's messages by their supporter key.
-- Messages stored before this column existed cannot be found that way.
ALTER TABLE solidarity_messages ADD COLUMN supporter_key text;
CREATE INDEX solidarity_by_supporter ON solidarity_messages (supporter_key)
    WHERE supporter_key IS NOT NULL;
CREATE INDEX signatures_by_supporter ON signatures (supporter_key);

-- Bumped by each erasure that re-renders a dossier: a rendering begun before it does not
-- record its (stale) files.
ALTER TABLE dossiers ADD COLUMN revision int NOT NULL DEFAULT 0;
