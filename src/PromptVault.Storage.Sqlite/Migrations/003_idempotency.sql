-- Placeholder on branch `units` so that 004 applies in order; the idempotency work owns this file. At merge, take theirs.
SELECT 1;
