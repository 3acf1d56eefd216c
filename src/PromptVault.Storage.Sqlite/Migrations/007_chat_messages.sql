-- Chat prompts (issue 13, SPEC §7): a chat version's messages, a JSON array of { role, content }; null for a text version.
ALTER TABLE versions ADD COLUMN messages TEXT;
