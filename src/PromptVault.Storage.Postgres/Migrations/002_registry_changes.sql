-- Registry changes travel between the servers sharing this database (PostgresRegistryChanges): every write to a table that
-- render, the SDK snapshot or authentication cache (prompts, versions, labels, experiments, api_keys) moves one
-- database-wide counter and announces the counter's value on the channel promptvault_registry, with what changed:
-- "<sequence> <Prompt|Experiment|ApiKeys> [<prompt id>]". Triggers, so no store method can forget it.
-- The triggers are deferred constraint triggers: they run at commit, after every other lock the transaction takes (so taking
-- the counter's row lock cannot deadlock), and that lock is held until the commit, so counter order is commit order and a
-- rolled-back write leaves no gap. Notifications are delivered in commit order; identical ones of one transaction once.
CREATE TABLE registry_changes (
    id       integer NOT NULL PRIMARY KEY CHECK (id = 1),
    sequence bigint NOT NULL
);
INSERT INTO registry_changes (id, sequence) VALUES (1, 0);

-- Arguments: the change kind, and the column holding the prompt's id (none for API keys).
CREATE FUNCTION promptvault_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change bigint := nullif(current_setting('promptvault.registry_change', true), '')::bigint;
    changed jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
BEGIN
    -- One number per transaction, however many rows it wrote.
    IF change IS NULL THEN
        UPDATE registry_changes SET sequence = sequence + 1 WHERE id = 1 RETURNING sequence INTO change;
        PERFORM set_config('promptvault.registry_change', change::text, true);
    END IF;
    PERFORM pg_notify('promptvault_registry', concat_ws(' ', change, TG_ARGV[0], changed ->> TG_ARGV[1]));
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE ON prompts DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION promptvault_registry_changed('Prompt', 'id');
CREATE CONSTRAINT TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE ON versions DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION promptvault_registry_changed('Prompt', 'prompt_id');
CREATE CONSTRAINT TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE ON labels DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION promptvault_registry_changed('Prompt', 'prompt_id');
CREATE CONSTRAINT TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE ON experiments DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION promptvault_registry_changed('Experiment', 'prompt_id');
CREATE CONSTRAINT TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE ON api_keys DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION promptvault_registry_changed('ApiKeys');
