-- Idempotency-Key answers (docs/reliability.md): each row is written in the transaction of the write it guards, so a crash
-- never keeps one without the other. Keys are scoped to the API key that sent them (owner = api_keys.id, no foreign key
-- so a key's rows outlive its revocation until they expire). A row counts until expires_at (24 h after created_at);
-- expired rows are deleted by the next keyed write. Conventions as in 001_initial.sql.
CREATE TABLE idempotency_keys (
    owner        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL, -- SHA-256 (hex) of the operation, its target and the request's canonical JSON
    response     TEXT NOT NULL, -- the answer's JSON
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    PRIMARY KEY (owner, key)
) STRICT, WITHOUT ROWID;

-- The pruning's range: the rows that expired by now.
CREATE INDEX ix_idempotency_keys_expires_at ON idempotency_keys (expires_at);
