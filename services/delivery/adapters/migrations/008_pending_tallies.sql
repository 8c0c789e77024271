-- Applied by shared.db.migrate with search_path set to the delivery schema.

-- How many signatures each case has pending, and since when. The cutter's check (every
-- second, and again after every cut) read each pending signature to count them, up to
-- the size rule's 10,000 per case: a third of PostgreSQL's time while a million
-- signatures came in. It now sums a few rows per case.
--
-- Kept by triggers: a row per case per statement storing signatures; a negative one per
-- case a statement deleting signatures (an erasure) took pending ones from; and all of a
-- case's rows deleted by the cut that seals its pending signatures, which runs under the
-- SEALING lock (adapters/cut_rows.py), so no transaction storing or deleting signatures
-- runs then: none is missed, none counted twice. Triggers rather than the code storing
-- rows, so that every writer is counted, a process of the previous version during a
-- rolling upgrade included.
--
-- `oldest` is the storing transaction's now(), its rows' received_at; NULL for an
-- erasure's tally, which leaves the case's oldest as it was (an erased oldest signature
-- can make its case's age rule fire early).
CREATE TABLE pending_tallies (
    case_id text NOT NULL,
    signatures integer NOT NULL,
    oldest timestamptz
);

CREATE FUNCTION tally_stored_signatures() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO pending_tallies (case_id, signatures, oldest)
    SELECT case_id, count(*), min(received_at) FROM stored GROUP BY case_id;
    RETURN NULL;
END $$;

CREATE TRIGGER signatures_tally_stored AFTER INSERT ON signatures
REFERENCING NEW TABLE AS stored
FOR EACH STATEMENT EXECUTE FUNCTION tally_stored_signatures();

-- The last signature id a range cut of the case sealed (0: none). A signature is pending
-- when no cut holds it: no cut_id, and an id above this.
CREATE FUNCTION sealed_upto(case_of text) RETURNS bigint
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT coalesce(max(upto_id), 0) FROM cuts WHERE case_id = case_of AND upto_id IS NOT NULL
$$;

CREATE FUNCTION tally_deleted_signatures() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO pending_tallies (case_id, signatures, oldest)
    SELECT case_id, -count(*), NULL FROM gone
    WHERE cut_id IS NULL AND id > sealed_upto(case_id)
    GROUP BY case_id;
    RETURN NULL;
END $$;

CREATE TRIGGER signatures_tally_deleted AFTER DELETE ON signatures
REFERENCING OLD TABLE AS gone
FOR EACH STATEMENT EXECUTE FUNCTION tally_deleted_signatures();

-- A cut by range seals every pending signature of its case (cut_rows.pending_span).
CREATE FUNCTION clear_sealed_tallies() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM pending_tallies WHERE case_id = NEW.case_id;
    RETURN NULL;
END $$;

CREATE TRIGGER cuts_clear_tallies AFTER INSERT ON cuts
FOR EACH ROW WHEN (NEW.kind = 'signatures' AND NEW.upto_id IS NOT NULL)
EXECUTE FUNCTION clear_sealed_tallies();

-- The triggers exist before the count (creating them waited for the transactions storing
-- signatures, and holds off new ones until this migration commits): none is missed.
-- The signatures pending now.
INSERT INTO pending_tallies (case_id, signatures, oldest)
SELECT case_id, count(*), min(received_at) FROM signatures
WHERE cut_id IS NULL AND id > sealed_upto(case_id)
GROUP BY case_id;
