-- API keys are not in the SDK snapshot, which the registry change counter numbers (002_registry_changes.sql): a key created
-- or revoked still announces itself on promptvault_registry, so every server drops its cached keys, but at the counter's
-- value, without moving it. Moving it gave one registry state two numbers: a server that built its snapshot before the key
-- change kept the old one, a server that built it after (started or reconnected since) took the new one, and an SDK
-- switching between them ignored the first server's snapshots as older.
CREATE OR REPLACE FUNCTION promptvault_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change bigint := nullif(current_setting('promptvault.registry_change', true), '')::bigint;
    changed jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
BEGIN
    IF TG_ARGV[0] = 'ApiKeys' THEN
        PERFORM pg_notify('promptvault_registry', concat_ws(' ', coalesce(change, (SELECT sequence FROM registry_changes WHERE id = 1)), 'ApiKeys'));
        RETURN NULL;
    END IF;
    -- One number per transaction, however many rows it wrote.
    IF change IS NULL THEN
        UPDATE registry_changes SET sequence = sequence + 1 WHERE id = 1 RETURNING sequence INTO change;
        PERFORM set_config('promptvault.registry_change', change::text, true);
    END IF;
    PERFORM pg_notify('promptvault_registry', concat_ws(' ', change, TG_ARGV[0], changed ->> TG_ARGV[1]));
    RETURN NULL;
END
$$;
