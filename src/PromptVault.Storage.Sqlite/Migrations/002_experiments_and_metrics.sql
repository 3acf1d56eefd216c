-- Experiments with their exposures (SPEC §3), and metrics (SPEC §4): durable raw events, plus the aggregates that every
-- read uses, kept incrementally so reads cost the same at any number of events. Conventions as in 001_initial.sql.

-- variants and guardrails hold the API's JSON. hash_seed holds the 64 bits of the ulong seed as a signed integer.
-- The prompt's name is read from prompts (names never change), not copied here.
CREATE TABLE experiments (
    id                        TEXT NOT NULL PRIMARY KEY,
    prompt_id                 TEXT NOT NULL REFERENCES prompts (id),
    name                      TEXT NOT NULL,
    description               TEXT NOT NULL,
    variants                  TEXT NOT NULL, -- JSON array of { id, name, versionId, weight }, the control first
    target_metric             TEXT NOT NULL,
    minimum_sample_size       INTEGER NOT NULL,
    confidence_level          REAL NOT NULL,
    minimum_detectable_effect REAL NOT NULL,
    power                     REAL NOT NULL,
    guardrails                TEXT NOT NULL, -- JSON array of { metric, threshold }
    promote_winner            INTEGER NOT NULL,
    status                    TEXT NOT NULL,
    hash_seed                 INTEGER NOT NULL,
    winner                    TEXT,
    status_reason             TEXT,
    created_at                TEXT NOT NULL,
    created_by                TEXT NOT NULL,
    updated_at                TEXT NOT NULL,
    started_at                TEXT,
    ended_at                  TEXT,
    UNIQUE (prompt_id, name)
) STRICT;

-- At most one running experiment per prompt; also the lookup of the running one (queries must say status = 'running').
CREATE UNIQUE INDEX ux_experiments_running ON experiments (prompt_id) WHERE status = 'running';

-- A unit's first exposure in an experiment; later ones are not stored.
CREATE TABLE exposures (
    experiment_id TEXT NOT NULL REFERENCES experiments (id),
    unit_id       TEXT NOT NULL,
    variant_id    TEXT NOT NULL,
    at            TEXT NOT NULL,
    PRIMARY KEY (experiment_id, unit_id)
) STRICT, WITHOUT ROWID;

-- Distinct exposed units per variant, incremented with each first exposure, so counting reads one row per variant.
CREATE TABLE exposure_counts (
    experiment_id TEXT NOT NULL REFERENCES experiments (id),
    variant_id    TEXT NOT NULL,
    units         INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, variant_id)
) STRICT, WITHOUT ROWID;

-- Every counted event, as received: written, never read by the store (reads use metric_rollups).
-- id is the caller's optional event id; NULLs do not collide, so events without one are never duplicates.
CREATE TABLE metric_events (
    id            TEXT UNIQUE,
    version_id    TEXT NOT NULL REFERENCES versions (id),
    experiment_id TEXT REFERENCES experiments (id),
    variant_id    TEXT,
    unit_id       TEXT,
    timestamp     TEXT NOT NULL,
    latency_ms    REAL,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    cost          REAL,
    quality_score REAL,
    user_feedback REAL,
    converted     INTEGER, -- 0 or 1
    error         TEXT,
    metadata      TEXT -- JSON, as sent
) STRICT;

-- The aggregates of events (MetricAggregateCodec blobs), per scope: one row per UTC hour with events, hour = the hour's
-- start in Unix seconds, and one all-time row, hour = -1 (never an hour's start, which is a multiple of 3600).
-- Scopes: a version (scope 'version', scope_id = version id, variant_id = '') and an experiment's variant
-- (scope 'variant', scope_id = experiment id, variant_id = variant id). hour comes before variant_id in the key, so every
-- read is one range of it: a version's hours, a version's all-time row, an experiment's all-time rows (one per variant).
CREATE TABLE metric_rollups (
    scope      TEXT NOT NULL,
    scope_id   TEXT NOT NULL,
    hour       INTEGER NOT NULL,
    variant_id TEXT NOT NULL,
    aggregate  BLOB NOT NULL,
    PRIMARY KEY (scope, scope_id, hour, variant_id)
) STRICT, WITHOUT ROWID;
