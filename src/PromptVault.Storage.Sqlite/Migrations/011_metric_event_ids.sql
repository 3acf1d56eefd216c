-- An event's id is optional and most events have none, but the UNIQUE column kept an index entry for every event: the
-- second B-tree insert of each event on the ingest path. The ids are now unique through a partial index, which holds only
-- the events that carry one. SQLite cannot drop a column constraint, so the table is rebuilt; rowid (the order events
-- were stored in, which the archive keeps) is copied as it was. On a large table this runs once, at the first start.
CREATE TABLE metric_events_rebuilt (
    id            TEXT,
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

INSERT INTO metric_events_rebuilt (rowid, id, version_id, experiment_id, variant_id, unit_id, timestamp, latency_ms,
    input_tokens, output_tokens, cost, quality_score, user_feedback, converted, error, metadata)
SELECT rowid, id, version_id, experiment_id, variant_id, unit_id, timestamp, latency_ms,
    input_tokens, output_tokens, cost, quality_score, user_feedback, converted, error, metadata
FROM metric_events;

DROP TABLE metric_events;
ALTER TABLE metric_events_rebuilt RENAME TO metric_events;

CREATE UNIQUE INDEX ux_metric_events_id ON metric_events (id) WHERE id IS NOT NULL;
