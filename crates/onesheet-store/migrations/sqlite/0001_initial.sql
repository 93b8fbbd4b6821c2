-- Versioned display settings: every save adds a row, so history and revert come for free.
CREATE TABLE settings_versions (
    version     INTEGER PRIMARY KEY AUTOINCREMENT,
    document    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL
);

-- Small facts about the installation itself, such as when it was first started.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
