-- The API key that registered a webhook (api_keys.id): once it is revoked the webhook is disabled (nothing is queued for it
-- and its pending deliveries wait) until an admin enables it again, which ties it to that admin's key. NULL for webhooks
-- registered before this migration: their key is unknown, and they keep delivering.
ALTER TABLE webhooks ADD COLUMN key_id TEXT;
