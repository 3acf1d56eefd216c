-- A unit's first exposure was kept unique by the table's key (experiment, unit). With unit ids that do not sort together
-- (UUIDs), each new unit wrote a B-tree page of its own, and its copy at the next checkpoint: two-fifths of a render's CPU
-- (docs/benchmarks.md, stop 29). Exposures are now appended in the order they were stored, and the writer keeps each unit
-- first-only through ExposedUnits, which it loads from this table by experiment. The table is rebuilt; rows keep their
-- key's order, which is the order the old table held them in.
CREATE TABLE exposures_appended (
    experiment_id TEXT NOT NULL REFERENCES experiments (id),
    unit_id       TEXT NOT NULL,
    variant_id    TEXT NOT NULL,
    at            TEXT NOT NULL
) STRICT;

INSERT INTO exposures_appended (experiment_id, unit_id, variant_id, at)
SELECT experiment_id, unit_id, variant_id, at FROM exposures ORDER BY experiment_id, unit_id;

DROP TABLE exposures;
ALTER TABLE exposures_appended RENAME TO exposures;

-- An experiment's exposures, read when the writer first needs them; each running experiment appends at its own end.
CREATE INDEX ix_exposures_experiment ON exposures (experiment_id);
