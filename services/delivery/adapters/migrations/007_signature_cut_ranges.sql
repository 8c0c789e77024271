-- Applied by shared.db.migrate with search_path set to the delivery schema.

-- A cut of signatures no longer writes its id into every row it seals (a new version of
-- each row and of its index entries: as costly as storing it again). It records the ids
-- it seals instead: its case's rows with after_id < id <= upto_id. Every transaction that
-- stores signatures holds a shared lock that the cut takes exclusively
-- (adapters/cut_rows.py), so no row below upto_id can commit after the cut.
-- Rows sealed before this migration keep their cut_id (upto_id NULL: such a cut's rows are
-- those with its cut_id); the pending ones (cut_id NULL) go to the next cuts, by range.
ALTER TABLE cuts ADD COLUMN after_id bigint, ADD COLUMN upto_id bigint;
CREATE INDEX cuts_signature_ranges ON cuts (case_id, upto_id) WHERE upto_id IS NOT NULL;

-- The key (supporter_key, case_id) becomes the primary key: the index on id, read by
-- nothing, went with every row stored. Rows are read by (case_id, id) through the index
-- of the pending rows (cut_id NULL), which now holds every row sealed by range too.
ALTER INDEX signatures_pending RENAME TO signatures_by_case;
ALTER TABLE signatures DROP CONSTRAINT signatures_pkey;
ALTER TABLE signatures DROP CONSTRAINT signatures_key;
ALTER TABLE signatures ADD CONSTRAINT signatures_key PRIMARY KEY (supporter_key, case_id);

-- Each signature with the cut that sealed it (NULL: still pending), whichever way.
CREATE VIEW signatures_with_cut AS
SELECT s.id, s.case_id, s.supporter_key, s.name, s.country, s.signed_at, s.received_at,
    s.consent_text_id,
    coalesce(s.cut_id, (
        SELECT c.id FROM cuts c
        WHERE c.case_id = s.case_id AND c.upto_id >= s.id AND c.after_id < s.id
            AND s.cut_id IS NULL AND c.kind = 'signatures'
    )) AS cut_id
FROM signatures s;
