-- Placeholder for the webhooks branch's migration of this number (migrations must be numbered without gaps).
-- Delete this file when that branch is merged.
SELECT 1;
