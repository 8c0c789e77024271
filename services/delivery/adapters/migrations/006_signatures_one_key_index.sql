-- Applied by shared.db.migrate with search_path set to the delivery schema.

-- One index where there were two: the key of a signature, (supporter_key, case_id), serves
-- ON CONFLICT (case_id, supporter_key) (a conflict target names the columns in any order)
-- and an erasure's lookup by supporter_key alone (its leading column). Every signature
-- stored, and every signature a cut seals (a new row version), wrote both indexes: the
-- one left costs 3.5 of 15 us of PostgreSQL's time per row stored (issue 15, item 4).
ALTER TABLE signatures ADD CONSTRAINT signatures_key UNIQUE (supporter_key, case_id);
ALTER TABLE signatures DROP CONSTRAINT signatures_case_id_supporter_key_key;
DROP INDEX signatures_by_supporter;
