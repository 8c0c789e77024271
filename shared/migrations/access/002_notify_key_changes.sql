-- Every change to the keys (create, revoke, update, delete), whoever makes it, wakes the
-- intake processes that hold the live keys in memory (LISTEN plume_api_keys): each
-- reloads them all, so the payload carries nothing (and never a key or its hash).
CREATE FUNCTION notify_api_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('plume_api_keys', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION notify_api_keys_changed();
