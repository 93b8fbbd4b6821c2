//! Admin accounts, TOTP state and recovery codes in SQLite.

use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use tracing::instrument;

use crate::StoreError;
use crate::accounts::{AdminAccount, AdminRemoval, NewAdmin, username_key};

const ADMIN_COLUMNS: &str = "id, username, password_hash, password_changed_at, totp_secret, \
     totp_pending_secret, totp_last_step, created_at";

#[instrument(skip_all)]
pub(super) async fn create_first_admin(
    pool: &SqlitePool,
    admin: &NewAdmin,
) -> Result<Option<AdminAccount>, StoreError> {
    // SQLite takes the write lock before it runs a writing statement, so NOT EXISTS is evaluated
    // under that lock. A second request that races this one waits for the lock and then finds
    // the row.
    let result = sqlx::query(
        "INSERT INTO admins (username, username_key, password_hash, password_changed_at,
             created_at)
         SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM admins)",
    )
    .bind(&admin.username)
    .bind(username_key(&admin.username))
    .bind(&admin.password_hash)
    .bind(admin.created_at)
    .bind(admin.created_at)
    .execute(pool)
    .await?;

    if result.rows_affected() == 0 {
        return Ok(None);
    }
    Ok(Some(new_account(result.last_insert_rowid(), admin)))
}

#[instrument(skip_all)]
pub(super) async fn create_admin(
    pool: &SqlitePool,
    admin: &NewAdmin,
) -> Result<AdminAccount, StoreError> {
    let result = sqlx::query(
        "INSERT INTO admins (username, username_key, password_hash, password_changed_at,
             created_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&admin.username)
    .bind(username_key(&admin.username))
    .bind(&admin.password_hash)
    .bind(admin.created_at)
    .bind(admin.created_at)
    .execute(pool)
    .await;

    match result {
        Ok(result) => Ok(new_account(result.last_insert_rowid(), admin)),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(StoreError::Conflict {
                what: "admin username",
                id: admin.username.clone(),
            })
        }
        Err(error) => Err(error.into()),
    }
}

pub(super) async fn count_admins(pool: &SqlitePool) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admins")
        .fetch_one(pool)
        .await?;
    Ok(count.unsigned_abs())
}

#[instrument(skip_all, fields(admin.id = id))]
pub(super) async fn get_admin(
    pool: &SqlitePool,
    id: i64,
) -> Result<Option<AdminAccount>, StoreError> {
    let row = sqlx::query(&format!("SELECT {ADMIN_COLUMNS} FROM admins WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(admin_from_row).transpose()
}

#[instrument(skip_all)]
pub(super) async fn get_admin_by_username(
    pool: &SqlitePool,
    username: &str,
) -> Result<Option<AdminAccount>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {ADMIN_COLUMNS} FROM admins WHERE username_key = ?"
    ))
    .bind(username_key(username))
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(admin_from_row).transpose()
}

#[instrument(skip_all)]
pub(super) async fn list_admins(pool: &SqlitePool) -> Result<Vec<AdminAccount>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {ADMIN_COLUMNS} FROM admins ORDER BY created_at, id"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(admin_from_row).collect()
}

#[instrument(skip_all, fields(admin.id = admin_id))]
pub(super) async fn change_password(
    pool: &SqlitePool,
    admin_id: i64,
    password_hash: &str,
    now_unix: i64,
) -> Result<bool, StoreError> {
    let result =
        sqlx::query("UPDATE admins SET password_hash = ?, password_changed_at = ? WHERE id = ?")
            .bind(password_hash)
            .bind(now_unix)
            .bind(admin_id)
            .execute(pool)
            .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(admin.id = admin_id))]
pub(super) async fn upgrade_password_hash(
    pool: &SqlitePool,
    admin_id: i64,
    current_hash: &str,
    new_hash: &str,
) -> Result<bool, StoreError> {
    let result =
        sqlx::query("UPDATE admins SET password_hash = ? WHERE id = ? AND password_hash = ?")
            .bind(new_hash)
            .bind(admin_id)
            .bind(current_hash)
            .execute(pool)
            .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(admin.id = admin_id))]
pub(super) async fn delete_admin(
    pool: &SqlitePool,
    admin_id: i64,
) -> Result<AdminRemoval, StoreError> {
    let mut transaction = pool.begin().await?;

    // The DELETE comes first, so the transaction holds the write lock from its first statement.
    // Two admins deleting each other at once therefore cannot both see a count of two.
    let deleted =
        sqlx::query("DELETE FROM admins WHERE id = ? AND (SELECT COUNT(*) FROM admins) > 1")
            .bind(admin_id)
            .execute(&mut *transaction)
            .await?
            .rows_affected();

    let removal = if deleted == 1 {
        AdminRemoval::Removed
    } else {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM admins WHERE id = ?")
            .bind(admin_id)
            .fetch_optional(&mut *transaction)
            .await?;
        if exists.is_some() {
            AdminRemoval::LastAdmin
        } else {
            AdminRemoval::NotFound
        }
    };

    transaction.commit().await?;
    Ok(removal)
}

#[instrument(skip_all, fields(admin.id = admin_id))]
pub(super) async fn set_totp_pending(
    pool: &SqlitePool,
    admin_id: i64,
    sealed_secret: Option<&[u8]>,
) -> Result<bool, StoreError> {
    let result = sqlx::query("UPDATE admins SET totp_pending_secret = ? WHERE id = ?")
        .bind(sealed_secret)
        .bind(admin_id)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(admin.id = admin_id, totp.step = step))]
pub(super) async fn confirm_totp(
    pool: &SqlitePool,
    admin_id: i64,
    pending: &[u8],
    step: i64,
) -> Result<bool, StoreError> {
    // Comparing the pending secret keeps a second enrolment, started after the caller read the
    // first, from being confirmed by a code of the first.
    let result = sqlx::query(
        "UPDATE admins SET totp_secret = totp_pending_secret, totp_pending_secret = NULL,
             totp_last_step = ?
         WHERE id = ? AND totp_pending_secret = ?",
    )
    .bind(step)
    .bind(admin_id)
    .bind(pending)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(admin.id = admin_id))]
pub(super) async fn disable_totp(pool: &SqlitePool, admin_id: i64) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE admins SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL
         WHERE id = ?",
    )
    .bind(admin_id)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(admin.id = admin_id, totp.step = step))]
pub(super) async fn claim_totp_step(
    pool: &SqlitePool,
    admin_id: i64,
    step: i64,
) -> Result<bool, StoreError> {
    // The comparison and the write are one statement, so of two requests with the same code
    // only the first to take the write lock changes the row.
    let result = sqlx::query(
        "UPDATE admins SET totp_last_step = ?
         WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
    )
    .bind(step)
    .bind(admin_id)
    .bind(step)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(admin.id = admin_id, codes = code_hashes.len()))]
pub(super) async fn replace_recovery_codes(
    pool: &SqlitePool,
    admin_id: i64,
    code_hashes: &[String],
    now_unix: i64,
) -> Result<(), StoreError> {
    let mut transaction = pool.begin().await?;

    sqlx::query("DELETE FROM recovery_codes WHERE admin_id = ?")
        .bind(admin_id)
        .execute(&mut *transaction)
        .await?;

    for code_hash in code_hashes {
        let result = sqlx::query(
            "INSERT INTO recovery_codes (admin_id, code_hash, created_at) VALUES (?, ?, ?)",
        )
        .bind(admin_id)
        .bind(code_hash)
        .bind(now_unix)
        .execute(&mut *transaction)
        .await;
        match result {
            Ok(_) => {}
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                return Err(StoreError::Conflict {
                    what: "recovery code hash",
                    id: "(hash not shown)".to_owned(),
                });
            }
            Err(error) => return Err(error.into()),
        }
    }

    transaction.commit().await?;
    Ok(())
}

#[instrument(skip_all, fields(admin.id = admin_id))]
pub(super) async fn count_unused_recovery_codes(
    pool: &SqlitePool,
    admin_id: i64,
) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_codes WHERE admin_id = ? AND used_at IS NULL",
    )
    .bind(admin_id)
    .fetch_one(pool)
    .await?;
    Ok(count.unsigned_abs())
}

#[instrument(skip_all, fields(admin.id = admin_id))]
pub(super) async fn use_recovery_code(
    pool: &SqlitePool,
    admin_id: i64,
    code_hash: &str,
    now_unix: i64,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE recovery_codes SET used_at = ?
         WHERE admin_id = ? AND code_hash = ? AND used_at IS NULL",
    )
    .bind(now_unix)
    .bind(admin_id)
    .bind(code_hash)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Builds the account that an insert of `admin` created, without reading it back.
fn new_account(id: i64, admin: &NewAdmin) -> AdminAccount {
    AdminAccount {
        id,
        username: admin.username.clone(),
        password_hash: admin.password_hash.clone(),
        password_changed_at: admin.created_at,
        totp_secret: None,
        totp_pending_secret: None,
        totp_last_step: None,
        created_at: admin.created_at,
    }
}

fn admin_from_row(row: &SqliteRow) -> Result<AdminAccount, StoreError> {
    Ok(AdminAccount {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        password_changed_at: row.try_get("password_changed_at")?,
        totp_secret: row.try_get("totp_secret")?,
        totp_pending_secret: row.try_get("totp_pending_secret")?,
        totp_last_step: row.try_get("totp_last_step")?,
        created_at: row.try_get("created_at")?,
    })
}
