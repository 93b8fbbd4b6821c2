//! Server-side admin sessions in SQLite.

use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Executor, Sqlite};
use tracing::instrument;

use crate::StoreError;
use crate::accounts::StoredSession;

const SESSION_COLUMNS: &str = "id_hash, admin_id, created_at, last_seen_at, idle_timeout_seconds, \
     expires_at, second_factor_pending, remember, client_ip, user_agent, csrf_token";

/// SQL form of [`StoredSession::is_live`], with parameter `?1` as the current time.
const IS_LIVE_SQL: &str = "last_seen_at + idle_timeout_seconds > ?1 AND expires_at > ?1";

#[instrument(skip_all, fields(admin.id = session.admin_id))]
pub(super) async fn insert_session(
    pool: &SqlitePool,
    session: &StoredSession,
) -> Result<(), StoreError> {
    insert(pool, session).await
}

#[instrument(skip_all)]
pub(super) async fn get_session(
    pool: &SqlitePool,
    id_hash: &str,
    now_unix: i64,
) -> Result<Option<StoredSession>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = ?"
    ))
    .bind(id_hash)
    .fetch_optional(pool)
    .await?;

    let Some(row) = row else {
        return Ok(None);
    };
    let session = session_from_row(&row)?;
    Ok(session.is_live(now_unix).then_some(session))
}

#[instrument(skip_all)]
pub(super) async fn touch_session(
    pool: &SqlitePool,
    id_hash: &str,
    now_unix: i64,
) -> Result<bool, StoreError> {
    // MAX keeps a request that finishes late from moving `last_seen_at` backwards.
    let result = sqlx::query(&format!(
        "UPDATE sessions SET last_seen_at = MAX(last_seen_at, ?1)
         WHERE id_hash = ?2 AND {IS_LIVE_SQL}"
    ))
    .bind(now_unix)
    .bind(id_hash)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all)]
pub(super) async fn delete_session(pool: &SqlitePool, id_hash: &str) -> Result<bool, StoreError> {
    let result = sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(admin.id = new.admin_id))]
pub(super) async fn replace_session(
    pool: &SqlitePool,
    old_id_hash: &str,
    new: &StoredSession,
) -> Result<bool, StoreError> {
    let mut transaction = pool.begin().await?;

    let deleted = sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
        .bind(old_id_hash)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
    if deleted == 0 {
        transaction.rollback().await?;
        return Ok(false);
    }

    insert(&mut *transaction, new).await?;
    transaction.commit().await?;
    Ok(true)
}

#[instrument(skip_all, fields(admin.id = admin_id))]
pub(super) async fn delete_admin_sessions(
    pool: &SqlitePool,
    admin_id: i64,
    keep_id_hash: Option<&str>,
) -> Result<u64, StoreError> {
    // `id_hash IS NOT ?` is true for every row when the bound value is NULL.
    let result = sqlx::query("DELETE FROM sessions WHERE admin_id = ? AND id_hash IS NOT ?")
        .bind(admin_id)
        .bind(keep_id_hash)
        .execute(pool)
        .await?;
    Ok(result.rows_affected())
}

#[instrument(skip_all, fields(admin.id = admin_id))]
pub(super) async fn list_admin_sessions(
    pool: &SqlitePool,
    admin_id: i64,
    now_unix: i64,
) -> Result<Vec<StoredSession>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE admin_id = ?2 AND {IS_LIVE_SQL}
         ORDER BY last_seen_at DESC, created_at DESC"
    ))
    .bind(now_unix)
    .bind(admin_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(session_from_row).collect()
}

#[instrument(skip_all)]
pub(super) async fn delete_expired_sessions(
    pool: &SqlitePool,
    now_unix: i64,
) -> Result<u64, StoreError> {
    let result = sqlx::query(&format!("DELETE FROM sessions WHERE NOT ({IS_LIVE_SQL})"))
        .bind(now_unix)
        .execute(pool)
        .await?;
    Ok(result.rows_affected())
}

async fn insert<'c, E>(executor: E, session: &StoredSession) -> Result<(), StoreError>
where
    E: Executor<'c, Database = Sqlite>,
{
    let result = sqlx::query(&format!(
        "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&session.id_hash)
    .bind(session.admin_id)
    .bind(session.created_at)
    .bind(session.last_seen_at)
    .bind(session.idle_timeout_seconds)
    .bind(session.expires_at)
    .bind(session.second_factor_pending)
    .bind(session.remember)
    .bind(session.client_ip.as_deref())
    .bind(session.user_agent.as_deref())
    .bind(&session.csrf_token)
    .execute(executor)
    .await;

    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(StoreError::Conflict {
                what: "session id hash",
                id: "(hash not shown)".to_owned(),
            })
        }
        Err(error) => Err(error.into()),
    }
}

fn session_from_row(row: &SqliteRow) -> Result<StoredSession, StoreError> {
    Ok(StoredSession {
        id_hash: row.try_get("id_hash")?,
        admin_id: row.try_get("admin_id")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        idle_timeout_seconds: row.try_get("idle_timeout_seconds")?,
        expires_at: row.try_get("expires_at")?,
        second_factor_pending: row.try_get("second_factor_pending")?,
        remember: row.try_get("remember")?,
        client_ip: row.try_get("client_ip")?,
        user_agent: row.try_get("user_agent")?,
        csrf_token: row.try_get("csrf_token")?,
    })
}
