-- Profiles and groups: named sets of settings overrides that devices share. `overrides` is a
-- partial settings document (a JSON object). `name_key` is the name folded (NFKC, lowercase) by
-- the store, which makes names unique in any letter case.
CREATE TABLE device_profiles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,
    overrides   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE device_groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,
    mode        TEXT    NOT NULL CHECK (mode IN ('independent', 'distinct', 'synchronised')),
    overrides   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Screens. `secret_hash` is a keyed hash of the device secret, computed by the server, or NULL
-- until the secret is issued. `name_key` is the folded name that text search matches.
-- `last_status` is the JSON of the screen's last status message. A merged record keeps its row
-- with `merged_into` set, so the admin can still see it. Deleting the survivor clears that link.
CREATE TABLE devices (
    id               TEXT    PRIMARY KEY,
    name             TEXT    NOT NULL,
    name_key         TEXT    NOT NULL,
    location         TEXT,
    profile_id       INTEGER REFERENCES device_profiles (id) ON DELETE SET NULL,
    group_id         INTEGER REFERENCES device_groups (id) ON DELETE SET NULL,
    overrides        TEXT    NOT NULL,
    secret_hash      TEXT,
    created_at       INTEGER NOT NULL,
    last_seen_at     INTEGER,
    last_address     TEXT,
    last_user_agent  TEXT,
    last_status      TEXT,
    revoked_at       INTEGER,
    merged_into      TEXT    REFERENCES devices (id) ON DELETE SET NULL
);
CREATE INDEX devices_location ON devices (location);
CREATE INDEX devices_profile_id ON devices (profile_id);
CREATE INDEX devices_group_id ON devices (group_id);
CREATE INDEX devices_merged_into ON devices (merged_into);
CREATE INDEX devices_address_user_agent ON devices (last_address, last_user_agent);

-- Pairing codes waiting for an admin's claim, kept so that a restart does not void the code a
-- screen shows. Code and ticket are stored as keyed hashes: a plain hash of a 29-bit code could
-- be reversed by trying every code. `used_at` and `device_id` are set by the claim, once.
CREATE TABLE pairing_codes (
    code_hash    TEXT    PRIMARY KEY,
    ticket_hash  TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    device_id    TEXT    REFERENCES devices (id) ON DELETE CASCADE,
    address      TEXT,
    user_agent   TEXT
);
CREATE INDEX pairing_codes_expires_at ON pairing_codes (expires_at);
CREATE INDEX pairing_codes_device_id ON pairing_codes (device_id);

-- The per-device command queue and its history. `command` is the command's JSON. `acked_at`
-- is when the device answered, positively or not, or when the server gave up waiting.
CREATE TABLE device_commands (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    command       TEXT    NOT NULL,
    state         TEXT    NOT NULL
                  CHECK (state IN ('queued', 'delivered', 'acked', 'failed', 'expired')),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    delivered_at  INTEGER,
    acked_at      INTEGER,
    error         TEXT
);
CREATE INDEX device_commands_device_state ON device_commands (device_id, state);
CREATE INDEX device_commands_device_id ON device_commands (device_id, id);
CREATE INDEX device_commands_pending_expiry ON device_commands (expires_at)
    WHERE state IN ('queued', 'delivered');
CREATE INDEX device_commands_created_at ON device_commands (created_at);
