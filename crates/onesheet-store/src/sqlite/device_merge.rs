//! Duplicate device records in SQLite: finding the likely ones and merging two into one.
//!
//! A screen whose browser storage was cleared loses its secret and pairs again as a new device.
//! Its new record shares the old one's last address and user agent, which is how the admin
//! finds it, and a merge moves the old record's settings onto the new one.

use onesheet_domain::{DeviceId, DeviceRecord};
use sqlx::sqlite::SqlitePool;
use tracing::instrument;

use super::devices::{DEVICE_COLUMNS, device_from_row, fetch_device};
use crate::StoreError;
use crate::devices::DeviceMerge;

#[instrument(skip_all, fields(device.id = %id))]
pub(super) async fn find_possible_duplicates(
    pool: &SqlitePool,
    id: &DeviceId,
) -> Result<Vec<DeviceRecord>, StoreError> {
    // `=` is never true for NULL, so a device with no recorded address or user agent has no
    // duplicates.
    let rows = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices AS other
         WHERE other.id != ?1 AND other.merged_into IS NULL
           AND other.last_address = (SELECT last_address FROM devices WHERE id = ?1)
           AND other.last_user_agent = (SELECT last_user_agent FROM devices WHERE id = ?1)
         ORDER BY other.created_at, other.id"
    ))
    .bind(id.as_str())
    .fetch_all(pool)
    .await?;
    rows.iter().map(device_from_row).collect()
}

#[instrument(skip_all, fields(device.id = %survivor, device.retired = %retired))]
pub(super) async fn merge_devices(
    pool: &SqlitePool,
    survivor: &DeviceId,
    retired: &DeviceId,
    now_unix: i64,
) -> Result<DeviceMerge, StoreError> {
    if survivor == retired {
        return Ok(DeviceMerge::SameDevice);
    }

    // IMMEDIATE takes the write lock before the reads, so no other writer can change either
    // record between the checks below and the updates.
    let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;

    for id in [survivor, retired] {
        match fetch_device(&mut *transaction, id).await? {
            None => return Ok(DeviceMerge::NotFound(id.clone())),
            Some(record) if record.merged_into.is_some() => {
                return Ok(DeviceMerge::AlreadyMerged(id.clone()));
            }
            Some(_) => {}
        }
    }

    // The retired record's name always moves, because keeping the name the admin gave is the
    // point of the merge. Location, profile, group and overrides move where the retired record
    // has them, and the survivor's own stay otherwise.
    sqlx::query(
        "UPDATE devices SET
             name = old.name,
             name_key = old.name_key,
             location = COALESCE(old.location, devices.location),
             profile_id = COALESCE(old.profile_id, devices.profile_id),
             group_id = COALESCE(old.group_id, devices.group_id),
             overrides = CASE WHEN old.overrides = '{}' THEN devices.overrides
                              ELSE old.overrides END
         FROM (SELECT name, name_key, location, profile_id, group_id, overrides
               FROM devices WHERE id = ?1) AS old
         WHERE devices.id = ?2",
    )
    .bind(retired.as_str())
    .bind(survivor.as_str())
    .execute(&mut *transaction)
    .await?;

    sqlx::query(
        "UPDATE devices SET merged_into = ?1, location = NULL, profile_id = NULL,
             group_id = NULL, overrides = '{}'
         WHERE id = ?2",
    )
    .bind(survivor.as_str())
    .bind(retired.as_str())
    .execute(&mut *transaction)
    .await?;

    // Records merged into the retired one earlier now point at the survivor, so no chain of
    // merges has to be followed.
    sqlx::query("UPDATE devices SET merged_into = ?1 WHERE merged_into = ?2")
        .bind(survivor.as_str())
        .bind(retired.as_str())
        .execute(&mut *transaction)
        .await?;

    // The retired record will never connect again, so its pending commands fail visibly
    // instead of waiting to expire.
    sqlx::query(
        "UPDATE device_commands SET state = 'failed', acked_at = ?1, error = ?2
         WHERE device_id = ?3 AND state IN ('queued', 'delivered')",
    )
    .bind(now_unix)
    .bind(format!("device merged into {survivor}"))
    .bind(retired.as_str())
    .execute(&mut *transaction)
    .await?;

    let merged = fetch_device(&mut *transaction, survivor).await?;
    transaction.commit().await?;

    merged
        .map(|record| DeviceMerge::Merged(Box::new(record)))
        .ok_or_else(|| StoreError::NotFound {
            what: "device",
            id: survivor.to_string(),
        })
}
