//! The audit log in SQLite.

use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};
use tracing::instrument;

use crate::StoreError;
use crate::audit::{AuditEvent, AuditFilter, NewAuditEvent};

#[instrument(skip_all, fields(audit.action = %event.action))]
pub(super) async fn append_audit_event(
    pool: &SqlitePool,
    event: &NewAuditEvent,
) -> Result<i64, StoreError> {
    let detail = event.detail.as_ref().map(serde_json::Value::to_string);
    let result = sqlx::query(
        "INSERT INTO audit_events (at, actor, action, target, ip, user_agent, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(event.at)
    .bind(&event.actor)
    .bind(&event.action)
    .bind(event.target.as_deref())
    .bind(event.ip.as_deref())
    .bind(event.user_agent.as_deref())
    .bind(detail)
    .execute(pool)
    .await?;
    Ok(result.last_insert_rowid())
}

#[instrument(skip_all)]
pub(super) async fn list_audit_events(
    pool: &SqlitePool,
    filter: &AuditFilter,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT id, at, actor, action, target, ip, user_agent, detail FROM audit_events WHERE 1",
    );

    if let Some(prefix) = &filter.action_prefix {
        // The range condition lets SQLite use the index on `action`, and `substr` makes the
        // match exact. LIKE would fold ASCII case and treat `%` and `_` as wildcards.
        query
            .push(" AND action >= ")
            .push_bind(prefix.clone())
            .push(" AND substr(action, 1, length(")
            .push_bind(prefix.clone())
            .push(")) = ")
            .push_bind(prefix.clone());
    }
    if let Some(actor) = &filter.actor {
        query.push(" AND actor = ").push_bind(actor.clone());
    }
    if let Some(since) = filter.since {
        query.push(" AND at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        query.push(" AND at < ").push_bind(until);
    }
    if let Some(before_id) = filter.before_id {
        query.push(" AND id < ").push_bind(before_id);
    }
    query
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(filter.effective_limit()));

    let rows = query.build().fetch_all(pool).await?;
    rows.iter().map(event_from_row).collect()
}

#[instrument(skip_all, fields(audit.cutoff = cutoff_unix))]
pub(super) async fn prune_audit_events(
    pool: &SqlitePool,
    cutoff_unix: i64,
) -> Result<u64, StoreError> {
    let result = sqlx::query("DELETE FROM audit_events WHERE at < ?")
        .bind(cutoff_unix)
        .execute(pool)
        .await?;
    Ok(result.rows_affected())
}

fn event_from_row(row: &SqliteRow) -> Result<AuditEvent, StoreError> {
    // A detail damaged by hand comes back as a JSON string of the raw text, so one bad row
    // does not fail the whole page.
    let detail: Option<String> = row.try_get("detail")?;
    let detail =
        detail.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)));

    Ok(AuditEvent {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
        detail,
    })
}
