-- Placeholder for the approvals branch's migration of this number (migrations must be numbered without gaps): it holds the
-- one column of it that the requireTests gate (SPEC §10) reads. Delete this file when that branch, which adds the column too, is merged.
ALTER TABLE prompts ADD COLUMN require_tests boolean NOT NULL DEFAULT false;
