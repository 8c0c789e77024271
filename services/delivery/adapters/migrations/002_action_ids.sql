-- Applied by shared.db.migrate with search_path set to the delivery schema.

-- Every action id delivery has taken (heartbeats aside), with a fingerprint of the action
-- that owns it (shared/action_ids.py): a later, different action under a known id is
-- refused, an identical replay ignored. Actions delivered before this table existed are
-- not in it.
CREATE TABLE action_ids (
    action_id uuid PRIMARY KEY,
    fingerprint bigint NOT NULL
);
