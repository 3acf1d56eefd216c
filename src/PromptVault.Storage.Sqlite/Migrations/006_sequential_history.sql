-- One point per (variant, metric) per analysis look that may decide (ExperimentService.EvaluateAsync): the lift estimate
-- and its always-valid interval then, so the dashboard can chart the interval narrowing from the experiment's start.
-- Written in the transaction that stores the look's sequential_states; thinned on write to at most 500 points per
-- (experiment, variant, metric).
CREATE TABLE sequential_history (
    experiment_id TEXT NOT NULL REFERENCES experiments (id),
    variant_id    TEXT NOT NULL,
    metric        TEXT NOT NULL,
    at            TEXT NOT NULL,
    estimate      REAL NOT NULL,
    low           REAL NOT NULL,
    high          REAL NOT NULL,
    PRIMARY KEY (experiment_id, variant_id, metric, at)
) STRICT, WITHOUT ROWID;
