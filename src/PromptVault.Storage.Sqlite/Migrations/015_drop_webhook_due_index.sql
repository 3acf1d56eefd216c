-- The index of pending deliveries by due time served only IWebhookStore.NextDueAsync, which nothing called (the
-- dispatcher polls, and its claim reads each webhook's deliveries through ix_webhook_deliveries_pending): every delivery
-- written, retried or finished paid for it.
DROP INDEX IF EXISTS ix_webhook_deliveries_due;
