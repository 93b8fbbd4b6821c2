//! Migrations embedded in the binary, so a release needs no files beside it.
//!
//! They are listed by hand instead of through sqlx's `migrate!` macro, which would pull the whole
//! sqlx macro stack into the build for one list of files.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// SQLite migrations in order; a released entry is never edited, only followed by a new one.
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "sources",
        include_str!("../migrations/sqlite/0002_sources.sql"),
    ),
    (
        3,
        "accounts",
        include_str!("../migrations/sqlite/0003_accounts.sql"),
    ),
    (
        4,
        "devices",
        include_str!("../migrations/sqlite/0004_devices.sql"),
    ),
    (
        5,
        "device secret confirmed",
        include_str!("../migrations/sqlite/0005_device_secret_confirmed.sql"),
    ),
];

pub(crate) fn sqlite() -> Migrator {
    let migrations = SQLITE
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}
