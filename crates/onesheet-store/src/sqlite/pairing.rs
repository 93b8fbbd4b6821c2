//! Pairing codes in SQLite: storing a code, claiming it once, and pruning old ones.

use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use tracing::instrument;

use super::devices::{fetch_device, insert_device, missing_reference, parse_device_id};
use crate::StoreError;
use crate::devices::{NewDevice, NewPairingCode, PairingClaim, StoredPairingCode};

const PAIRING_COLUMNS: &str =
    "code_hash, ticket_hash, created_at, expires_at, used_at, device_id, address, user_agent";

#[instrument(skip_all)]
pub(super) async fn insert_pairing_code(
    pool: &SqlitePool,
    code: &NewPairingCode,
) -> Result<(), StoreError> {
    // Codes have only 29 bits, so a new code can match an old row. An unclaimed expired code is
    // replaced. A live or claimed one is a conflict, and the caller draws again.
    let result = sqlx::query(
        "INSERT INTO pairing_codes (code_hash, ticket_hash, created_at, expires_at, address,
             user_agent)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (code_hash) DO UPDATE SET
             ticket_hash = excluded.ticket_hash,
             created_at = excluded.created_at,
             expires_at = excluded.expires_at,
             address = excluded.address,
             user_agent = excluded.user_agent
         WHERE pairing_codes.used_at IS NULL
           AND pairing_codes.expires_at <= excluded.created_at",
    )
    .bind(&code.code_hash)
    .bind(&code.ticket_hash)
    .bind(code.created_at)
    .bind(code.expires_at)
    .bind(code.address.as_deref())
    .bind(code.user_agent.as_deref())
    .execute(pool)
    .await;

    let conflict = || StoreError::Conflict {
        what: "pairing code",
        id: "(hash not shown)".to_owned(),
    };
    match result {
        Ok(result) if result.rows_affected() == 1 => Ok(()),
        Ok(_) => Err(conflict()),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Err(conflict()),
        Err(error) => Err(error.into()),
    }
}

#[instrument(skip_all, fields(device.id = %device.id))]
pub(super) async fn claim_pairing_code(
    pool: &SqlitePool,
    code_hash: &str,
    device: &NewDevice,
    now_unix: i64,
) -> Result<PairingClaim, StoreError> {
    // IMMEDIATE takes the write lock before the code is read, so of two claims that race, the
    // second waits and then finds the code used.
    let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;

    let row = sqlx::query("SELECT expires_at, used_at FROM pairing_codes WHERE code_hash = ?")
        .bind(code_hash)
        .fetch_optional(&mut *transaction)
        .await?;
    let Some(row) = row else {
        return Ok(PairingClaim::NotFound);
    };
    let expires_at: i64 = row.try_get("expires_at")?;
    let used_at: Option<i64> = row.try_get("used_at")?;
    if used_at.is_some() {
        return Ok(PairingClaim::AlreadyUsed);
    }
    if now_unix >= expires_at {
        return Ok(PairingClaim::Expired);
    }

    if let Err(error) = insert_device(&mut *transaction, device).await {
        transaction.rollback().await?;
        return Err(match error {
            StoreError::Query(sqlx::Error::Database(database))
                if database.is_foreign_key_violation() =>
            {
                missing_reference(pool, device.profile_id, device.group_id).await
            }
            other => other,
        });
    }

    // The screen's address and user agent come from the pairing request unless the caller set
    // them, so that duplicate detection works for paired devices too.
    sqlx::query(
        "UPDATE devices SET
             last_address = COALESCE(last_address, code.address),
             last_user_agent = COALESCE(last_user_agent, code.user_agent)
         FROM (SELECT address, user_agent FROM pairing_codes WHERE code_hash = ?1) AS code
         WHERE devices.id = ?2",
    )
    .bind(code_hash)
    .bind(device.id.as_str())
    .execute(&mut *transaction)
    .await?;

    sqlx::query("UPDATE pairing_codes SET used_at = ?, device_id = ? WHERE code_hash = ?")
        .bind(now_unix)
        .bind(device.id.as_str())
        .bind(code_hash)
        .execute(&mut *transaction)
        .await?;

    let record = fetch_device(&mut *transaction, &device.id).await?;
    transaction.commit().await?;

    record
        .map(|record| PairingClaim::Claimed(Box::new(record)))
        .ok_or_else(|| StoreError::NotFound {
            what: "device",
            id: device.id.to_string(),
        })
}

#[instrument(skip_all)]
pub(super) async fn get_pairing_code_by_ticket(
    pool: &SqlitePool,
    ticket_hash: &str,
) -> Result<Option<StoredPairingCode>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {PAIRING_COLUMNS} FROM pairing_codes WHERE ticket_hash = ?"
    ))
    .bind(ticket_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(pairing_from_row).transpose()
}

#[instrument(skip_all)]
pub(super) async fn prune_pairing_codes(
    pool: &SqlitePool,
    now_unix: i64,
) -> Result<u64, StoreError> {
    // A claimed code stays past its expiry while its device waits for its secret, because the
    // screen's ticket is the only way to hand the secret over. It goes once the secret is
    // issued or can no longer be (the device was revoked, merged or deleted).
    let result = sqlx::query(
        "DELETE FROM pairing_codes
         WHERE expires_at <= ?1
           AND (used_at IS NULL OR NOT EXISTS (
                SELECT 1 FROM devices
                WHERE devices.id = pairing_codes.device_id AND devices.secret_hash IS NULL
                  AND devices.revoked_at IS NULL AND devices.merged_into IS NULL))",
    )
    .bind(now_unix)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

fn pairing_from_row(row: &SqliteRow) -> Result<StoredPairingCode, StoreError> {
    let device_id: Option<String> = row.try_get("device_id")?;
    Ok(StoredPairingCode {
        code_hash: row.try_get("code_hash")?,
        ticket_hash: row.try_get("ticket_hash")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        device_id: device_id.map(parse_device_id).transpose()?,
        address: row.try_get("address")?,
        user_agent: row.try_get("user_agent")?,
    })
}
