-- The claim of due deliveries (WebhookStatements.ClaimSql) reads, for each webhook, only its first deliveries by
-- (next_attempt_at, id), and counts only the deliveries in flight: its cost is bounded by what it may claim, not by the
-- backlog (a receiver down for a day leaves tens of thousands pending, and the dispatcher claims every second). Before,
-- it numbered every due delivery on every poll. Leases are cleared when an attempt is recorded or given back, so few rows
-- have one.
CREATE INDEX ix_webhook_deliveries_pending ON webhook_deliveries (webhook_id, next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_leased ON webhook_deliveries (webhook_id, lease_until) WHERE lease_until IS NOT NULL;
