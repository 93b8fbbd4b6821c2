//! Device records in SQLite: creation, lookup, filters, changes, revocation and the batched
//! presence writes.

use onesheet_domain::{DeviceId, DeviceRecord, SettingsOverride};
use serde_json::Value;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Executor, QueryBuilder, Row, Sqlite};
use tracing::instrument;

use crate::StoreError;
use crate::devices::{
    DeviceChanges, DeviceFilter, NewDevice, PresenceUpdate, StoredSecret, name_key,
};

pub(super) const DEVICE_COLUMNS: &str = "id, name, location, profile_id, group_id, overrides, \
     created_at, last_seen_at, last_address, last_user_agent, last_status, revoked_at, merged_into";

/// SQL condition of a device that may authenticate: neither revoked nor merged.
const IS_ACTIVE_SQL: &str = "revoked_at IS NULL AND merged_into IS NULL";

#[instrument(skip_all, fields(device.id = %device.id))]
pub(super) async fn create_device(
    pool: &SqlitePool,
    device: &NewDevice,
) -> Result<DeviceRecord, StoreError> {
    match insert_device(pool, device).await {
        Ok(()) => {}
        Err(StoreError::Query(sqlx::Error::Database(error)))
            if error.is_foreign_key_violation() =>
        {
            return Err(missing_reference(pool, device.profile_id, device.group_id).await);
        }
        Err(error) => return Err(error),
    }
    fetch_device(pool, &device.id)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "device",
            id: device.id.to_string(),
        })
}

/// Inserts the row of a new device. Callers inside a transaction pass it as the executor.
pub(super) async fn insert_device<'c, E>(executor: E, device: &NewDevice) -> Result<(), StoreError>
where
    E: Executor<'c, Database = Sqlite>,
{
    let result = sqlx::query(
        "INSERT INTO devices (id, name, name_key, location, profile_id, group_id, overrides,
             secret_hash, created_at, last_address, last_user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(device.id.as_str())
    .bind(&device.name)
    .bind(name_key(&device.name))
    .bind(device.location.as_deref())
    .bind(device.profile_id)
    .bind(device.group_id)
    .bind(overrides_text(&device.overrides))
    .bind(device.secret_hash.as_deref())
    .bind(device.created_at)
    .bind(device.address.as_deref())
    .bind(device.user_agent.as_deref())
    .execute(executor)
    .await;

    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(StoreError::Conflict {
                what: "device id",
                id: device.id.to_string(),
            })
        }
        Err(error) => Err(error.into()),
    }
}

#[instrument(skip_all, fields(device.id = %id))]
pub(super) async fn get_device(
    pool: &SqlitePool,
    id: &DeviceId,
) -> Result<Option<DeviceRecord>, StoreError> {
    fetch_device(pool, id).await
}

pub(super) async fn fetch_device<'c, E>(
    executor: E,
    id: &DeviceId,
) -> Result<Option<DeviceRecord>, StoreError>
where
    E: Executor<'c, Database = Sqlite>,
{
    let row = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?"
    ))
    .bind(id.as_str())
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(device_from_row).transpose()
}

#[instrument(skip_all)]
pub(super) async fn list_devices(
    pool: &SqlitePool,
    filter: &DeviceFilter,
) -> Result<Vec<DeviceRecord>, StoreError> {
    let mut query =
        QueryBuilder::<Sqlite>::new(format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE 1"));

    if !filter.include_merged {
        query.push(" AND merged_into IS NULL");
    }
    if let Some(location) = &filter.location {
        query.push(" AND location = ").push_bind(location.clone());
    }
    if let Some(group_id) = filter.group_id {
        query.push(" AND group_id = ").push_bind(group_id);
    }
    if let Some(profile_id) = filter.profile_id {
        query.push(" AND profile_id = ").push_bind(profile_id);
    }
    if let Some(search) = filter.search.as_deref().map(name_key)
        && !search.is_empty()
    {
        // instr, unlike LIKE, gives `%` and `_` no special meaning.
        query
            .push(" AND instr(name_key, ")
            .push_bind(search)
            .push(") > 0");
    }
    query.push(" ORDER BY name_key, id");

    let rows = query.build().fetch_all(pool).await?;
    rows.iter().map(device_from_row).collect()
}

#[instrument(skip_all, fields(group.id = ?group_id))]
pub(super) async fn list_active_device_ids(
    pool: &SqlitePool,
    group_id: Option<i64>,
) -> Result<Vec<DeviceId>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT id FROM devices
         WHERE {IS_ACTIVE_SQL} AND (?1 IS NULL OR group_id = ?1)
         ORDER BY id"
    ))
    .bind(group_id)
    .fetch_all(pool)
    .await?;
    ids.into_iter().map(parse_device_id).collect()
}

#[instrument(skip_all, fields(device.id = %id))]
pub(super) async fn get_device_secret(
    pool: &SqlitePool,
    id: &DeviceId,
) -> Result<Option<StoredSecret>, StoreError> {
    let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT secret_hash, secret_confirmed_at FROM devices WHERE id = ? AND {IS_ACTIVE_SQL}"
    ))
    .bind(id.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(hash, confirmed_at)| {
        hash.map(|hash| StoredSecret {
            hash,
            confirmed: confirmed_at.is_some(),
        })
    }))
}

#[instrument(skip_all, fields(device.id = %id))]
pub(super) async fn issue_device_secret(
    pool: &SqlitePool,
    id: &DeviceId,
    secret_hash: &str,
) -> Result<bool, StoreError> {
    let result = sqlx::query(&format!(
        "UPDATE devices SET secret_hash = ?
         WHERE id = ? AND secret_confirmed_at IS NULL AND {IS_ACTIVE_SQL}"
    ))
    .bind(secret_hash)
    .bind(id.as_str())
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(device.id = %id))]
pub(super) async fn confirm_device_secret(
    pool: &SqlitePool,
    id: &DeviceId,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE devices SET secret_confirmed_at = ?
         WHERE id = ? AND secret_confirmed_at IS NULL",
    )
    .bind(now)
    .bind(id.as_str())
    .execute(pool)
    .await?;
    Ok(())
}

#[instrument(skip_all, fields(device.id = %id))]
pub(super) async fn update_device(
    pool: &SqlitePool,
    id: &DeviceId,
    changes: &DeviceChanges,
) -> Result<Option<DeviceRecord>, StoreError> {
    if *changes == DeviceChanges::default() {
        return fetch_device(pool, id).await;
    }

    let mut query = QueryBuilder::<Sqlite>::new("UPDATE devices SET ");
    let mut assignments = query.separated(", ");
    if let Some(name) = &changes.name {
        assignments
            .push("name = ")
            .push_bind_unseparated(name.clone());
        assignments
            .push("name_key = ")
            .push_bind_unseparated(name_key(name));
    }
    if let Some(location) = &changes.location {
        assignments
            .push("location = ")
            .push_bind_unseparated(location.clone());
    }
    if let Some(profile_id) = changes.profile_id {
        assignments
            .push("profile_id = ")
            .push_bind_unseparated(profile_id);
    }
    if let Some(group_id) = changes.group_id {
        assignments
            .push("group_id = ")
            .push_bind_unseparated(group_id);
    }
    if let Some(overrides) = &changes.overrides {
        assignments
            .push("overrides = ")
            .push_bind_unseparated(overrides_text(overrides));
    }
    query.push(" WHERE id = ").push_bind(id.as_str().to_owned());

    match query.build().execute(pool).await {
        Ok(result) if result.rows_affected() == 0 => return Ok(None),
        Ok(_) => {}
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
            return Err(missing_reference(
                pool,
                changes.profile_id.flatten(),
                changes.group_id.flatten(),
            )
            .await);
        }
        Err(error) => return Err(error.into()),
    }
    fetch_device(pool, id).await
}

#[instrument(skip_all, fields(device.id = %id))]
pub(super) async fn revoke_device(
    pool: &SqlitePool,
    id: &DeviceId,
    now_unix: i64,
) -> Result<bool, StoreError> {
    let result =
        sqlx::query("UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(now_unix)
            .bind(id.as_str())
            .execute(pool)
            .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(device.id = %id))]
pub(super) async fn delete_device(pool: &SqlitePool, id: &DeviceId) -> Result<bool, StoreError> {
    let result = sqlx::query("DELETE FROM devices WHERE id = ?")
        .bind(id.as_str())
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(updates = updates.len()))]
pub(super) async fn record_presence(
    pool: &SqlitePool,
    updates: &[PresenceUpdate],
) -> Result<u64, StoreError> {
    if updates.is_empty() {
        return Ok(0);
    }

    // One transaction for the whole batch: every commit takes the write lock and appends to the
    // WAL, so a thousand commits would cost a thousand of those and let readers see half a
    // batch. The statement is prepared once per connection and reused from sqlx's cache.
    let mut transaction = pool.begin().await?;
    let mut updated = 0;
    for update in updates {
        let status = update.status.as_ref().map(status_text).transpose()?;
        let result = sqlx::query(
            "UPDATE devices SET
                 last_seen_at = MAX(COALESCE(last_seen_at, ?1), ?1),
                 last_address = COALESCE(?2, last_address),
                 last_user_agent = COALESCE(?3, last_user_agent),
                 last_status = COALESCE(?4, last_status)
             WHERE id = ?5",
        )
        .bind(update.seen_at)
        .bind(update.address.as_deref())
        .bind(update.user_agent.as_deref())
        .bind(status)
        .bind(update.device_id.as_str())
        .execute(&mut *transaction)
        .await?;
        updated += result.rows_affected();
    }
    transaction.commit().await?;
    Ok(updated)
}

/// Finds which of the referenced profile and group is missing after a foreign-key violation.
pub(super) async fn missing_reference(
    pool: &SqlitePool,
    profile_id: Option<i64>,
    group_id: Option<i64>,
) -> StoreError {
    let checks = [
        ("device profile", "device_profiles", profile_id),
        ("device group", "device_groups", group_id),
    ];
    for (what, table, id) in checks {
        let Some(id) = id else { continue };
        let exists = sqlx::query(&format!("SELECT 1 FROM {table} WHERE id = ?"))
            .bind(id)
            .fetch_optional(pool)
            .await;
        match exists {
            Ok(Some(_)) => {}
            Ok(None) => {
                return StoreError::NotFound {
                    what,
                    id: id.to_string(),
                };
            }
            Err(error) => return error.into(),
        }
    }
    // Both exist now: one was deleted during the insert and recreated since, which is too
    // rare to explain better.
    StoreError::NotFound {
        what: "device profile or group",
        id: format!("{profile_id:?}, {group_id:?}"),
    }
}

pub(super) fn device_from_row(row: &SqliteRow) -> Result<DeviceRecord, StoreError> {
    // A damaged status is dropped rather than failing the record: the next status replaces it.
    let last_status: Option<String> = row.try_get("last_status")?;
    let last_status = last_status.and_then(|text| serde_json::from_str(&text).ok());
    let merged_into: Option<String> = row.try_get("merged_into")?;

    Ok(DeviceRecord {
        id: parse_device_id(row.try_get("id")?)?,
        name: row.try_get("name")?,
        location: row.try_get("location")?,
        profile_id: row.try_get("profile_id")?,
        group_id: row.try_get("group_id")?,
        overrides: parse_overrides(row.try_get("overrides")?, "device overrides")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        last_address: row.try_get("last_address")?,
        last_user_agent: row.try_get("last_user_agent")?,
        last_status,
        revoked_at: row.try_get("revoked_at")?,
        merged_into: merged_into.map(parse_device_id).transpose()?,
    })
}

/// Parses a stored device id. Ids are checked before they are written, so a failure means the
/// database was edited by hand.
pub(super) fn parse_device_id(text: String) -> Result<DeviceId, StoreError> {
    serde_json::from_value(Value::String(text)).map_err(|error| StoreError::Corrupt {
        what: "device id",
        error,
    })
}

pub(super) fn parse_overrides(
    text: String,
    what: &'static str,
) -> Result<SettingsOverride, StoreError> {
    serde_json::from_str(&text).map_err(|error| StoreError::Corrupt { what, error })
}

/// Returns the JSON text of an override document. It goes through `Value`'s `Display`, which,
/// unlike `serde_json::to_string`, has no error case.
pub(super) fn overrides_text(overrides: &SettingsOverride) -> String {
    Value::Object(overrides.as_map().clone()).to_string()
}

fn status_text(status: &onesheet_domain::DeviceStatus) -> Result<String, StoreError> {
    serde_json::to_string(status).map_err(|error| StoreError::Corrupt {
        what: "device status",
        error,
    })
}
