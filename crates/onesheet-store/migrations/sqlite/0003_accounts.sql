-- Administrator accounts. `username` keeps the spelling entered; `username_key` is its folded
-- form (NFKC, lowercase), computed by the store, which makes usernames unique in any case.
-- `password_hash` is an argon2id PHC string or an imported bcrypt hash. The TOTP secrets are
-- sealed with the secret key; `totp_last_step` is the last accepted time step, so no code is
-- accepted twice. AUTOINCREMENT keeps a deleted account's id from being given to a new one.
CREATE TABLE admins (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    username             TEXT    NOT NULL,
    username_key         TEXT    NOT NULL UNIQUE,
    password_hash        TEXT    NOT NULL,
    password_changed_at  INTEGER NOT NULL,
    totp_secret          BLOB,
    totp_pending_secret  BLOB,
    totp_last_step       INTEGER,
    created_at           INTEGER NOT NULL
);

-- Single-use recovery codes, ten per account, stored as keyed hashes so that a code can be
-- found by equality. `used_at` is set when a code is spent.
CREATE TABLE recovery_codes (
    admin_id    INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    code_hash   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (admin_id, code_hash)
);

-- Server-side admin sessions, keyed by a hash of the session id so that a copy of the database
-- cannot be replayed as cookies. A session expires `idle_timeout_seconds` after `last_seen_at`
-- or at `expires_at`, whichever comes first.
CREATE TABLE sessions (
    id_hash                TEXT    PRIMARY KEY,
    admin_id               INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    created_at             INTEGER NOT NULL,
    last_seen_at           INTEGER NOT NULL,
    idle_timeout_seconds   INTEGER NOT NULL,
    expires_at             INTEGER NOT NULL,
    second_factor_pending  INTEGER NOT NULL,
    remember               INTEGER NOT NULL,
    client_ip              TEXT,
    user_agent             TEXT,
    csrf_token             TEXT    NOT NULL
);
CREATE INDEX sessions_admin_id ON sessions (admin_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- API tokens, found by the hash of the token the client sends. A revoked token stays listed.
-- Tokens outlive the admin who created them, so `created_by` is cleared on delete.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    created_by    INTEGER REFERENCES admins (id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_tokens_created_by ON api_tokens (created_by);

-- Append-only record of logins and changes. Ids only grow (AUTOINCREMENT), even after pruning,
-- so they order events and serve as the paging cursor. `detail` is a JSON document.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT,
    ip          TEXT,
    user_agent  TEXT,
    detail      TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_action ON audit_events (action);
