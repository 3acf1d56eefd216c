-- Webhooks (SPEC §7) and their delivery outbox. A delivery row is written in the transaction of the audit entry that fires
-- it (WebhookEvents.FromAudit), so a committed change always has its deliveries. Dispatchers lease due rows
-- (lease_owner, lease_until) so that each attempt is made by one server; every attempt is kept in webhook_attempts.
CREATE TABLE webhooks (
    id         TEXT NOT NULL PRIMARY KEY,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL, -- JSON array of event names
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL, -- pending, delivered, failed
    attempts        INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT,          -- NULL once delivered or failed
    delivered_at    TEXT,
    lease_owner     TEXT,
    lease_until     TEXT
) STRICT;

CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

CREATE TABLE webhook_attempts (
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          TEXT NOT NULL,
    status_code INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
) STRICT;
