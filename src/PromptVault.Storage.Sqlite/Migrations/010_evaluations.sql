-- A version's test cases (SPEC §10): one JSON array per version, written with the version (copied forward from the latest
-- one unless the new version brings its own) or replaced by PUT .../tests.
CREATE TABLE version_tests (
    version_id TEXT NOT NULL PRIMARY KEY REFERENCES versions (id),
    tests      TEXT NOT NULL -- JSON array of test cases
) STRICT;

-- Evaluation runs of a version's tests, kept per version; the newest decides the requireTests gate.
CREATE TABLE evaluation_runs (
    id         TEXT NOT NULL PRIMARY KEY,
    version_id TEXT NOT NULL REFERENCES versions (id),
    status     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    run        TEXT NOT NULL -- JSON of the whole run (SPEC §10)
) STRICT;
CREATE INDEX ix_evaluation_runs_version ON evaluation_runs (version_id, created_at DESC, id DESC);
