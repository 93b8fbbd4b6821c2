-- Media sources configured through the admin API. `settings` is the kind's JSON document
-- without secrets; `credential` is the token or password sealed with the secret key and bound
-- to the row's id, so it cannot be copied into another row.
CREATE TABLE sources (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    settings    TEXT    NOT NULL,
    credential  BLOB,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
