-- The first schema. Timestamps are ISO 8601 text in UTC ("O" format), so they sort as text and round-trip exactly.
-- Enums hold their wire names (few-shot, production); JSON columns hold the API's JSON form.

CREATE TABLE prompts (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    type        TEXT NOT NULL,
    tags        TEXT NOT NULL, -- JSON array of strings
    category    TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
) STRICT;

-- The unique (prompt_id, sequence) index also serves "versions of a prompt" and "latest version" (highest sequence).
CREATE TABLE versions (
    id                 TEXT NOT NULL PRIMARY KEY,
    prompt_id          TEXT NOT NULL REFERENCES prompts (id),
    sequence           INTEGER NOT NULL,
    major              INTEGER NOT NULL,
    minor              INTEGER NOT NULL,
    patch              INTEGER NOT NULL,
    content            TEXT NOT NULL,
    variables          TEXT NOT NULL, -- JSON array of variable definitions
    metadata           TEXT NOT NULL, -- JSON object
    change_description TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    status             TEXT NOT NULL,
    UNIQUE (prompt_id, sequence),
    UNIQUE (prompt_id, major, minor, patch)
) STRICT;

CREATE TABLE labels (
    prompt_id  TEXT NOT NULL REFERENCES prompts (id),
    name       TEXT NOT NULL,
    version_id TEXT NOT NULL REFERENCES versions (id),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (prompt_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    prompt_name TEXT,
    subject     TEXT,
    before_json TEXT, -- JSON object of strings, or NULL
    after_json  TEXT
) STRICT;

-- The audit log of one prompt, newest first.
CREATE INDEX ix_audit_prompt_name ON audit (prompt_name, id);

CREATE TABLE api_keys (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
