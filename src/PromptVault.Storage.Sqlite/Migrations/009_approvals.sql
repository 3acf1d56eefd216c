-- Approvals (SPEC §7): a prompt's promotion gates, and who approved a version and when (null when it was never approved or
-- went back to review or draft; kept when it moves on to production). requireTests is stored here; its gate is §10's.
ALTER TABLE prompts ADD COLUMN require_approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE prompts ADD COLUMN require_tests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE versions ADD COLUMN approved_by TEXT;
ALTER TABLE versions ADD COLUMN approved_at TEXT;
