//! API tokens in SQLite.

use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use tracing::instrument;

use crate::StoreError;
use crate::accounts::{NewApiToken, StoredApiToken};

const TOKEN_COLUMNS: &str =
    "id, name, scope, token_hash, created_by, created_at, last_used_at, revoked_at";

#[instrument(skip_all, fields(token.name = %token.name, token.scope = %token.scope))]
pub(super) async fn insert_api_token(
    pool: &SqlitePool,
    token: &NewApiToken,
) -> Result<StoredApiToken, StoreError> {
    let result = sqlx::query(
        "INSERT INTO api_tokens (name, scope, token_hash, created_by, created_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&token.name)
    .bind(&token.scope)
    .bind(&token.token_hash)
    .bind(token.created_by)
    .bind(token.created_at)
    .execute(pool)
    .await;

    match result {
        Ok(result) => Ok(StoredApiToken {
            id: result.last_insert_rowid(),
            name: token.name.clone(),
            scope: token.scope.clone(),
            token_hash: token.token_hash.clone(),
            created_by: token.created_by,
            created_at: token.created_at,
            last_used_at: None,
            revoked_at: None,
        }),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(StoreError::Conflict {
                what: "API token hash",
                id: "(hash not shown)".to_owned(),
            })
        }
        Err(error) => Err(error.into()),
    }
}

#[instrument(skip_all, fields(token.id = id))]
pub(super) async fn get_api_token(
    pool: &SqlitePool,
    id: i64,
) -> Result<Option<StoredApiToken>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(token_from_row).transpose()
}

#[instrument(skip_all)]
pub(super) async fn get_active_api_token(
    pool: &SqlitePool,
    token_hash: &str,
) -> Result<Option<StoredApiToken>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(token_from_row).transpose()
}

#[instrument(skip_all, fields(token.id = id))]
pub(super) async fn record_api_token_use(
    pool: &SqlitePool,
    id: i64,
    now_unix: i64,
) -> Result<bool, StoreError> {
    let result = sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
        .bind(now_unix)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all, fields(token.id = id))]
pub(super) async fn revoke_api_token(
    pool: &SqlitePool,
    id: i64,
    now_unix: i64,
) -> Result<bool, StoreError> {
    let result =
        sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(now_unix)
            .bind(id)
            .execute(pool)
            .await?;
    Ok(result.rows_affected() == 1)
}

#[instrument(skip_all)]
pub(super) async fn list_api_tokens(pool: &SqlitePool) -> Result<Vec<StoredApiToken>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, id"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(token_from_row).collect()
}

fn token_from_row(row: &SqliteRow) -> Result<StoredApiToken, StoreError> {
    Ok(StoredApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scope: row.try_get("scope")?,
        token_hash: row.try_get("token_hash")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}
