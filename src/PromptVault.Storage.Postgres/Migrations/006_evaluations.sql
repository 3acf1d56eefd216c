-- A version's test cases (SPEC §10): one JSON array per version, written with the version (copied forward from the latest
-- one unless the new version brings its own) or replaced by PUT .../tests.
CREATE TABLE version_tests (
    version_id text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES versions (id),
    tests      text NOT NULL -- JSON array of test cases
);

-- Evaluation runs of a version's tests, kept per version; the newest decides the requireTests gate.
CREATE TABLE evaluation_runs (
    id         text COLLATE "C" NOT NULL PRIMARY KEY,
    version_id text COLLATE "C" NOT NULL REFERENCES versions (id),
    status     text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    created_by text COLLATE "C" NOT NULL,
    run        text NOT NULL -- JSON of the whole run (SPEC §10)
);
CREATE INDEX ix_evaluation_runs_version ON evaluation_runs (version_id, created_at DESC, id DESC);
