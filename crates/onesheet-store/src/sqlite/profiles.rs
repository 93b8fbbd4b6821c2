//! Device profiles and groups in SQLite. Both are named sets of settings overrides with unique
//! names, and groups also have a mode. Deleting one clears the reference of its devices.

use onesheet_domain::{Group, GroupMode, Profile};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};
use tracing::instrument;

use super::devices::{overrides_text, parse_overrides};
use crate::StoreError;
use crate::devices::{GroupChanges, NewGroup, NewProfile, ProfileChanges, name_key};

const PROFILE_COLUMNS: &str = "id, name, overrides, created_at, updated_at";
const GROUP_COLUMNS: &str = "id, name, mode, overrides, created_at, updated_at";

#[instrument(skip_all, fields(profile.name = %profile.name))]
pub(super) async fn create_profile(
    pool: &SqlitePool,
    profile: &NewProfile,
) -> Result<Profile, StoreError> {
    let result = sqlx::query(
        "INSERT INTO device_profiles (name, name_key, overrides, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )
    .bind(&profile.name)
    .bind(name_key(&profile.name))
    .bind(overrides_text(&profile.overrides))
    .bind(profile.created_at)
    .execute(pool)
    .await
    .map_err(|error| name_conflict(error, "profile name", &profile.name))?;

    Ok(Profile {
        id: result.last_insert_rowid(),
        name: profile.name.clone(),
        overrides: profile.overrides.clone(),
        created_at: profile.created_at,
        updated_at: profile.created_at,
    })
}

#[instrument(skip_all, fields(profile.id = id))]
pub(super) async fn get_profile(pool: &SqlitePool, id: i64) -> Result<Option<Profile>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {PROFILE_COLUMNS} FROM device_profiles WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(profile_from_row).transpose()
}

#[instrument(skip_all)]
pub(super) async fn list_profiles(pool: &SqlitePool) -> Result<Vec<Profile>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {PROFILE_COLUMNS} FROM device_profiles ORDER BY name_key"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(profile_from_row).collect()
}

#[instrument(skip_all, fields(profile.id = id))]
pub(super) async fn update_profile(
    pool: &SqlitePool,
    id: i64,
    changes: &ProfileChanges,
    now_unix: i64,
) -> Result<Option<Profile>, StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new("UPDATE device_profiles SET updated_at = ");
    query.push_bind(now_unix);
    if let Some(name) = &changes.name {
        query.push(", name = ").push_bind(name.clone());
        query.push(", name_key = ").push_bind(name_key(name));
    }
    if let Some(overrides) = &changes.overrides {
        query
            .push(", overrides = ")
            .push_bind(overrides_text(overrides));
    }
    query.push(" WHERE id = ").push_bind(id);

    let result = query.build().execute(pool).await.map_err(|error| {
        name_conflict(error, "profile name", changes.name.as_deref().unwrap_or(""))
    })?;
    if result.rows_affected() == 0 {
        return Ok(None);
    }
    get_profile(pool, id).await
}

#[instrument(skip_all, fields(profile.id = id))]
pub(super) async fn delete_profile(pool: &SqlitePool, id: i64) -> Result<bool, StoreError> {
    let result = sqlx::query("DELETE FROM device_profiles WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(group.name = %group.name))]
pub(super) async fn create_group(pool: &SqlitePool, group: &NewGroup) -> Result<Group, StoreError> {
    let result = sqlx::query(
        "INSERT INTO device_groups (name, name_key, mode, overrides, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )
    .bind(&group.name)
    .bind(name_key(&group.name))
    .bind(group.mode.as_str())
    .bind(overrides_text(&group.overrides))
    .bind(group.created_at)
    .execute(pool)
    .await
    .map_err(|error| name_conflict(error, "group name", &group.name))?;

    Ok(Group {
        id: result.last_insert_rowid(),
        name: group.name.clone(),
        mode: group.mode,
        overrides: group.overrides.clone(),
        created_at: group.created_at,
        updated_at: group.created_at,
    })
}

#[instrument(skip_all, fields(group.id = id))]
pub(super) async fn get_group(pool: &SqlitePool, id: i64) -> Result<Option<Group>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {GROUP_COLUMNS} FROM device_groups WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(group_from_row).transpose()
}

#[instrument(skip_all)]
pub(super) async fn list_groups(pool: &SqlitePool) -> Result<Vec<Group>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {GROUP_COLUMNS} FROM device_groups ORDER BY name_key"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(group_from_row).collect()
}

#[instrument(skip_all, fields(group.id = id))]
pub(super) async fn update_group(
    pool: &SqlitePool,
    id: i64,
    changes: &GroupChanges,
    now_unix: i64,
) -> Result<Option<Group>, StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new("UPDATE device_groups SET updated_at = ");
    query.push_bind(now_unix);
    if let Some(name) = &changes.name {
        query.push(", name = ").push_bind(name.clone());
        query.push(", name_key = ").push_bind(name_key(name));
    }
    if let Some(mode) = changes.mode {
        query.push(", mode = ").push_bind(mode.as_str());
    }
    if let Some(overrides) = &changes.overrides {
        query
            .push(", overrides = ")
            .push_bind(overrides_text(overrides));
    }
    query.push(" WHERE id = ").push_bind(id);

    let result = query.build().execute(pool).await.map_err(|error| {
        name_conflict(error, "group name", changes.name.as_deref().unwrap_or(""))
    })?;
    if result.rows_affected() == 0 {
        return Ok(None);
    }
    get_group(pool, id).await
}

#[instrument(skip_all, fields(group.id = id))]
pub(super) async fn delete_group(pool: &SqlitePool, id: i64) -> Result<bool, StoreError> {
    let result = sqlx::query("DELETE FROM device_groups WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Turns a unique violation on the name into [`StoreError::Conflict`] naming it.
fn name_conflict(error: sqlx::Error, what: &'static str, name: &str) -> StoreError {
    match error {
        sqlx::Error::Database(database) if database.is_unique_violation() => StoreError::Conflict {
            what,
            id: name.to_owned(),
        },
        other => other.into(),
    }
}

fn profile_from_row(row: &SqliteRow) -> Result<Profile, StoreError> {
    Ok(Profile {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        overrides: parse_overrides(row.try_get("overrides")?, "profile overrides")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn group_from_row(row: &SqliteRow) -> Result<Group, StoreError> {
    // The CHECK constraint admits only the three known modes. Should a later version add one
    // and then be downgraded, its groups read as independent instead of failing every list.
    let mode: String = row.try_get("mode")?;
    Ok(Group {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        mode: mode.parse().unwrap_or(GroupMode::Independent),
        overrides: parse_overrides(row.try_get("overrides")?, "group overrides")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
