-- Experiments are analysed by unit (SPEC §3). Each write below happens in the transaction of the event batch or exposure
-- that causes it, and touches rows by their full primary key, so recording costs the same at any number of units.
-- Blobs are UnitStatisticsCodec's (PromptVault.Core.Analysis).

-- One unit's events that named one variant of an experiment, summed (UnitSums), whether or not the unit was exposed to it.
CREATE TABLE unit_sums (
    experiment_id TEXT NOT NULL REFERENCES experiments (id),
    unit_id       TEXT NOT NULL,
    variant_id    TEXT NOT NULL,
    sums          BLOB NOT NULL,
    PRIMARY KEY (experiment_id, unit_id, variant_id)
) STRICT, WITHOUT ROWID;

-- Per variant: the sufficient statistics of its exposed units' sums, and its unattributed events (VariantUnitStats).
CREATE TABLE variant_unit_stats (
    experiment_id TEXT NOT NULL REFERENCES experiments (id),
    variant_id    TEXT NOT NULL,
    stats         BLOB NOT NULL,
    PRIMARY KEY (experiment_id, variant_id)
) STRICT, WITHOUT ROWID;

-- What the experiment's sequential tests remember between looks (SequentialState): JSON { key: running minimum }.
CREATE TABLE sequential_states (
    experiment_id TEXT NOT NULL PRIMARY KEY REFERENCES experiments (id),
    state         TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- The per-event variant aggregates are no longer read (results come from the tables above); versions keep theirs.
-- Events recorded before this migration count for their versions only: experiments start their unit analysis here.
DELETE FROM metric_rollups WHERE scope = 'variant';
