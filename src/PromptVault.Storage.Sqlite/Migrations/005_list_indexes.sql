-- Paged lists (issue 8): the audit log filtered by actor or action, newest first, and experiments newest first.
CREATE INDEX ix_audit_actor ON audit (actor, id);
CREATE INDEX ix_audit_action ON audit (action, id);
CREATE INDEX ix_experiments_created ON experiments (created_at, id);
CREATE INDEX ix_experiments_prompt_created ON experiments (prompt_id, created_at, id);
