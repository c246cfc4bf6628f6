-- Mechanisms every module shares: idempotent creates (architecture.md, "Idempotency").
CREATE TABLE idempotency_keys (
    id INTEGER PRIMARY KEY,
    -- Who sent the key ('' until identity lands; then the principal), so two
    -- clients can never replay each other's responses.
    principal TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- Method and path the key was first used on, plus a hash of the request.
    fingerprint TEXT NOT NULL,
    -- 'in_progress' while the first request runs, 'completed' once its
    -- response is stored in the same transaction as the record it created.
    state TEXT NOT NULL,
    response_status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    locked_until TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX idempotency_keys_principal_key ON idempotency_keys (principal, idempotency_key);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
