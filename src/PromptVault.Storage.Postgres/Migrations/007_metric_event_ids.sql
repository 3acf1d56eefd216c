-- An event's id is optional and most events have none, but the UNIQUE column kept an index entry for every event, one
-- more index insert per event on the ingest path. The ids are now unique through a partial index that holds only the
-- events that carry one (the same change as SQLite's 011).
ALTER TABLE metric_events DROP CONSTRAINT metric_events_id_key;
CREATE UNIQUE INDEX ux_metric_events_id ON metric_events (id) WHERE id IS NOT NULL;
