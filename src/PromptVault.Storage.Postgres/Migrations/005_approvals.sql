-- Approvals: as SQLite's 009_approvals.sql.
ALTER TABLE prompts ADD COLUMN require_approval boolean NOT NULL DEFAULT false;
ALTER TABLE prompts ADD COLUMN require_tests boolean NOT NULL DEFAULT false;
ALTER TABLE versions ADD COLUMN approved_by text COLLATE "C";
ALTER TABLE versions ADD COLUMN approved_at text COLLATE "C";
