-- Identity, access control and audit (domain.md §1 R-ORG-1, R-CRM-2, R-X-1).

-- Roles: the built-in ones (code set, synced from the domain at start) and
-- the company's own (code NULL). permissions is a space-separated list of
-- permission codes; it is read whole with the role, never searched.
CREATE TABLE roles (
    id INTEGER PRIMARY KEY,
    code TEXT,
    name TEXT NOT NULL,
    description TEXT,
    permissions TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE UNIQUE INDEX roles_code ON roles (code) WHERE code IS NOT NULL;
CREATE UNIQUE INDEX roles_active_name ON roles (name) WHERE archived_at IS NULL;

-- Staff accounts. office_id is the home office (NULL: company level), which
-- is what data scopes cut staff records by (R-ORG-1).
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    office_id BIGINT REFERENCES offices (id),
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    mobile TEXT,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE UNIQUE INDEX users_username ON users (username);
CREATE INDEX users_office ON users (office_id, id);

-- A role held by a user, with its data scope. scope_offices lists office ids
-- (comma-separated) for scope_kind 'offices'.
-- AUTOINCREMENT: assignments are deleted when withdrawn, and an id the
-- audit log has named must never come back for another assignment.
CREATE TABLE role_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    role_id BIGINT NOT NULL REFERENCES roles (id),
    scope_kind TEXT NOT NULL,
    scope_offices TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX role_assignments_user ON role_assignments (user_id);
CREATE INDEX role_assignments_role ON role_assignments (role_id);

-- Residents who signed in through the WeChat mini-program, known by openid.
CREATE TABLE residents (
    id INTEGER PRIMARY KEY,
    openid TEXT NOT NULL,
    unionid TEXT,
    created_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX residents_openid ON residents (openid);

-- A sign-in: one refresh-token family. Access tokens name it (sid), so
-- revoking it (logout, refresh-token reuse) ends them at once too.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id BIGINT REFERENCES users (id),
    resident_id BIGINT REFERENCES residents (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    CHECK ((user_id IS NULL) <> (resident_id IS NULL))
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens, stored as SHA-256 hashes; each is used once.
CREATE TABLE refresh_tokens (
    id INTEGER PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE UNIQUE INDEX refresh_tokens_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Integration keys for scripts: shown once, stored as SHA-256 hashes (the
-- secret is 256 random bits, so a slow hash adds nothing). prefix is the
-- first characters, for people to tell keys apart.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    permissions TEXT NOT NULL,
    scope_kind TEXT NOT NULL,
    scope_offices TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);

-- A resident's request to be bound to a house (住户绑定申请), reviewed by
-- staff of the house's office. phone comes from WeChat, never from the client.
-- A review is a staff member's (reviewed_by) or an automatic rule's
-- (review_rule, its stable name), never both.
CREATE TABLE binding_requests (
    id INTEGER PRIMARY KEY,
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    house_id BIGINT NOT NULL REFERENCES houses (id),
    office_id BIGINT NOT NULL REFERENCES offices (id),
    relation TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    status TEXT NOT NULL,
    reviewed_by BIGINT REFERENCES users (id),
    review_rule TEXT,
    reviewed_at TIMESTAMP,
    review_note TEXT,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (reviewed_by IS NULL OR review_rule IS NULL)
);
CREATE INDEX binding_requests_office ON binding_requests (office_id, id);
CREATE INDEX binding_requests_resident ON binding_requests (resident_id, id);
CREATE UNIQUE INDEX binding_requests_one_pending ON binding_requests (resident_id, house_id) WHERE status = 'pending';

-- Approved bindings: which houses a resident may act for.
CREATE TABLE house_bindings (
    id INTEGER PRIMARY KEY,
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    house_id BIGINT NOT NULL REFERENCES houses (id),
    office_id BIGINT NOT NULL REFERENCES offices (id),
    relation TEXT NOT NULL,
    request_id BIGINT REFERENCES binding_requests (id),
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX house_bindings_resident_house ON house_bindings (resident_id, house_id);
CREATE INDEX house_bindings_house ON house_bindings (house_id);

-- The audit log (R-X-1): append-only, enforced by the database itself.
-- changes is a JSON object with sensitive values already masked.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id BIGINT,
    office_id BIGINT,
    changes TEXT NOT NULL,
    request_id TEXT NOT NULL,
    client_addr TEXT NOT NULL
);
CREATE INDEX audit_events_office ON audit_events (office_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_kind, actor_id, id);
CREATE INDEX audit_events_resource ON audit_events (resource_type, resource_id, id);
CREATE INDEX audit_events_occurred ON audit_events (occurred_at, id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
