//! The per-device command queue in SQLite.
//!
//! A command is `queued` until it is sent, `delivered` until the device replies, then `acked`
//! or `failed`. A pending command past its `expires_at` becomes `expired`. Delivery is at least
//! once: a command sent just before a connection dropped is sent again on reconnect, and the
//! device can recognise repeats by the command id.

use std::collections::{HashMap, HashSet, VecDeque};

use onesheet_domain::{CommandId, DeviceId};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};
use tracing::instrument;

use super::devices::parse_device_id;
use crate::StoreError;
use crate::devices::{CommandReply, NewCommand, StoredCommand};

const COMMAND_COLUMNS: &str =
    "id, device_id, command, state, created_at, expires_at, delivered_at, acked_at, error";

/// Rows per multi-row statement. Each insert binds five values, far below SQLite's limit of
/// 32,766 bound values per statement.
const ROWS_PER_STATEMENT: usize = 500;

/// SQL condition of a command still waiting for its device.
const IS_PENDING_SQL: &str = "state IN ('queued', 'delivered')";

#[instrument(skip_all, fields(device.id = %command.device_id, command = command.command.name()))]
pub(super) async fn enqueue_command(
    pool: &SqlitePool,
    command: &NewCommand,
    max_pending: u32,
) -> Result<StoredCommand, StoreError> {
    let mut connection = pool.acquire().await?;
    enqueue_on(&mut connection, command, max_pending).await
}

/// Queues many commands in one transaction: a broadcast to a fleet costs one commit instead of
/// one per screen. Each command's outcome is reported on its own, so one full queue or unknown
/// device does not stop the others: SQLite undoes only the failing statement.
#[instrument(skip_all, fields(commands = commands.len()))]
pub(super) async fn enqueue_commands(
    pool: &SqlitePool,
    commands: &[NewCommand],
    max_pending: u32,
) -> Result<Vec<Result<StoredCommand, StoreError>>, StoreError> {
    let Some(first) = commands.first() else {
        return Ok(Vec::new());
    };
    let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;

    // The write lock is held from here, so the counts read once stay true while the rows go in.
    // A broadcast gives every command the same creation time, which the expiry test uses.
    let counts: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT device_id, COUNT(*) FROM device_commands
         WHERE {IS_PENDING_SQL} AND expires_at > ? GROUP BY device_id"
    ))
    .bind(first.created_at)
    .fetch_all(&mut *transaction)
    .await?;
    let mut pending: HashMap<String, i64> = counts.into_iter().collect();

    let mut outcomes: Vec<Option<Result<StoredCommand, StoreError>>> =
        commands.iter().map(|_| None).collect();
    let mut accepted = Vec::with_capacity(commands.len());
    for (index, command) in commands.iter().enumerate() {
        let count = pending.entry(command.device_id.to_string()).or_default();
        if *count >= i64::from(max_pending) {
            outcomes[index] = Some(Err(StoreError::QueueFull {
                device_id: command.device_id.to_string(),
                limit: max_pending,
            }));
            continue;
        }
        *count += 1;
        accepted.push(index);
    }

    for chunk in accepted.chunks(ROWS_PER_STATEMENT) {
        match insert_rows(&mut transaction, commands, chunk).await {
            Ok(ids) => {
                for (index, id) in chunk.iter().zip(ids) {
                    outcomes[*index] = Some(Ok(queued(&commands[*index], id)));
                }
            }
            // One unknown device fails the whole statement, so these rows go one at a time
            // and only that device's command fails.
            Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
                for &index in chunk {
                    let outcome = enqueue_on(&mut transaction, &commands[index], max_pending).await;
                    outcomes[index] = Some(outcome);
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    transaction.commit().await?;
    // Every index got its outcome above: refused, inserted, or inserted alone.
    Ok(outcomes.into_iter().flatten().collect())
}

/// Inserts the commands at `indexes` with one statement and returns their ids in that order.
async fn insert_rows(
    connection: &mut SqliteConnection,
    commands: &[NewCommand],
    indexes: &[usize],
) -> Result<Vec<CommandId>, sqlx::Error> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "INSERT INTO device_commands (device_id, command, state, created_at, expires_at) ",
    );
    query.push_values(indexes, |mut row, &index| {
        let command = &commands[index];
        // A command serialises without fail: it is a tagged enum of plain fields.
        let json = serde_json::to_string(&command.command).unwrap_or_default();
        row.push_bind(command.device_id.as_str())
            .push_bind(json)
            .push_bind("queued")
            .push_bind(command.created_at)
            .push_bind(command.expires_at);
    });
    query.push(" RETURNING id, device_id");
    let rows: Vec<(i64, String)> = query.build_query_as().fetch_all(&mut *connection).await?;

    // RETURNING lists rows in no promised order, but ids grow in insertion order, so each
    // device's ids, sorted, match its commands in the order they were given.
    let mut by_device: HashMap<String, VecDeque<i64>> = HashMap::new();
    let mut sorted = rows;
    sorted.sort_unstable();
    for (id, device_id) in sorted {
        by_device.entry(device_id).or_default().push_back(id);
    }
    Ok(indexes
        .iter()
        .map(|&index| {
            let device_id = commands[index].device_id.as_str();
            let id = by_device
                .get_mut(device_id)
                .and_then(VecDeque::pop_front)
                .unwrap_or_default();
            CommandId(id)
        })
        .collect())
}

fn queued(command: &NewCommand, id: CommandId) -> StoredCommand {
    StoredCommand {
        id,
        device_id: command.device_id.clone(),
        command: command.command.clone(),
        state: onesheet_domain::CommandState::Queued,
        created_at: command.created_at,
        expires_at: command.expires_at,
        delivered_at: None,
        acked_at: None,
        error: None,
    }
}

async fn enqueue_on(
    connection: &mut SqliteConnection,
    command: &NewCommand,
    max_pending: u32,
) -> Result<StoredCommand, StoreError> {
    let json = serde_json::to_string(&command.command).map_err(|error| StoreError::Corrupt {
        what: "device command",
        error,
    })?;

    // The count and the insert are one statement, which SQLite runs under the write lock, so
    // two commands sent at once cannot both take the last free place. Pending commands past
    // their expiry do not count, even before `expire_commands` marks them.
    let result = sqlx::query(&format!(
        "INSERT INTO device_commands (device_id, command, state, created_at, expires_at)
         SELECT ?1, ?2, 'queued', ?3, ?4
         WHERE (SELECT COUNT(*) FROM device_commands
                WHERE device_id = ?1 AND {IS_PENDING_SQL} AND expires_at > ?3) < ?5"
    ))
    .bind(command.device_id.as_str())
    .bind(json)
    .bind(command.created_at)
    .bind(command.expires_at)
    .bind(max_pending)
    .execute(&mut *connection)
    .await;

    match result {
        Ok(result) if result.rows_affected() == 1 => {
            Ok(queued(command, CommandId(result.last_insert_rowid())))
        }
        // Nothing inserted: the count reached the cap. A missing device has a count of zero, so
        // it fails on the foreign key below instead (unless the cap is zero).
        Ok(_) => Err(StoreError::QueueFull {
            device_id: command.device_id.to_string(),
            limit: max_pending,
        }),
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
            Err(StoreError::NotFound {
                what: "device",
                id: command.device_id.to_string(),
            })
        }
        Err(error) => Err(error.into()),
    }
}

#[instrument(skip_all, fields(command.id = %id))]
pub(super) async fn get_command(
    pool: &SqlitePool,
    id: CommandId,
) -> Result<Option<StoredCommand>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COMMAND_COLUMNS} FROM device_commands WHERE id = ?"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(command_from_row).transpose()
}

#[instrument(skip_all, fields(command.id = %id))]
pub(super) async fn mark_command_delivered(
    pool: &SqlitePool,
    id: CommandId,
    now_unix: i64,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE device_commands SET state = 'delivered', delivered_at = ?
         WHERE id = ? AND state = 'queued'",
    )
    .bind(now_unix)
    .bind(id.0)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Marks many queued commands as delivered in one transaction. Returns, per id, whether it was
/// still queued.
#[instrument(skip_all, fields(commands = ids.len()))]
pub(super) async fn mark_commands_delivered(
    pool: &SqlitePool,
    ids: &[CommandId],
    now_unix: i64,
) -> Result<Vec<bool>, StoreError> {
    let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut marked = HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "UPDATE device_commands SET state = 'delivered', delivered_at = ",
        );
        query.push_bind(now_unix);
        query.push(" WHERE state = 'queued' AND id IN (");
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(id.0);
        }
        query.push(") RETURNING id");
        let updated: Vec<i64> = query
            .build_query_scalar()
            .fetch_all(&mut *transaction)
            .await?;
        marked.extend(updated);
    }
    transaction.commit().await?;
    // A repeated id was marked by its first occurrence only.
    Ok(ids.iter().map(|id| marked.remove(&id.0)).collect())
}

#[instrument(skip_all, fields(device.id = %device_id))]
pub(super) async fn take_pending_commands(
    pool: &SqlitePool,
    device_id: &DeviceId,
    now_unix: i64,
) -> Result<Vec<StoredCommand>, StoreError> {
    let rows = sqlx::query(&format!(
        "UPDATE device_commands SET state = 'delivered', delivered_at = ?1
         WHERE device_id = ?2 AND {IS_PENDING_SQL} AND expires_at > ?1
         RETURNING {COMMAND_COLUMNS}"
    ))
    .bind(now_unix)
    .bind(device_id.as_str())
    .fetch_all(pool)
    .await?;

    // RETURNING gives rows in no particular order, but the device must carry them out in the order
    // the admin sent them.
    let mut commands = rows
        .iter()
        .map(command_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    commands.sort_by_key(|command| command.id);
    Ok(commands)
}

#[instrument(skip_all, fields(device.id = %device_id, command.id = %id))]
pub(super) async fn finish_command(
    pool: &SqlitePool,
    device_id: &DeviceId,
    id: CommandId,
    error: Option<&str>,
    now_unix: i64,
) -> Result<bool, StoreError> {
    let state = if error.is_some() { "failed" } else { "acked" };
    let result = sqlx::query(&format!(
        "UPDATE device_commands SET state = ?, acked_at = ?, error = ?
         WHERE id = ? AND device_id = ? AND {IS_PENDING_SQL}"
    ))
    .bind(state)
    .bind(now_unix)
    .bind(error)
    .bind(id.0)
    .bind(device_id.as_str())
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Records many replies in one transaction.
#[instrument(skip_all, fields(replies = replies.len()))]
pub(super) async fn finish_commands(
    pool: &SqlitePool,
    replies: &[CommandReply],
) -> Result<Vec<bool>, StoreError> {
    let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut finished = Vec::with_capacity(replies.len());
    for reply in replies {
        let state = if reply.error.is_some() {
            "failed"
        } else {
            "acked"
        };
        let result = sqlx::query(&format!(
            "UPDATE device_commands SET state = ?, acked_at = ?, error = ?
             WHERE id = ? AND device_id = ? AND {IS_PENDING_SQL}"
        ))
        .bind(state)
        .bind(reply.at)
        .bind(reply.error.as_deref())
        .bind(reply.id.0)
        .bind(reply.device_id.as_str())
        .execute(&mut *transaction)
        .await?;
        finished.push(result.rows_affected() == 1);
    }
    transaction.commit().await?;
    Ok(finished)
}

#[instrument(skip_all)]
pub(super) async fn expire_commands(pool: &SqlitePool, now_unix: i64) -> Result<u64, StoreError> {
    let result = sqlx::query(&format!(
        "UPDATE device_commands SET state = 'expired'
         WHERE {IS_PENDING_SQL} AND expires_at <= ?"
    ))
    .bind(now_unix)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

#[instrument(skip_all, fields(device.id = %device_id))]
pub(super) async fn list_device_commands(
    pool: &SqlitePool,
    device_id: &DeviceId,
    limit: u32,
) -> Result<Vec<StoredCommand>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COMMAND_COLUMNS} FROM device_commands WHERE device_id = ?
         ORDER BY id DESC LIMIT ?"
    ))
    .bind(device_id.as_str())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(command_from_row).collect()
}

#[instrument(skip_all, fields(cutoff = cutoff_unix))]
pub(super) async fn prune_commands(pool: &SqlitePool, cutoff_unix: i64) -> Result<u64, StoreError> {
    let result = sqlx::query(&format!(
        "DELETE FROM device_commands WHERE NOT ({IS_PENDING_SQL}) AND created_at < ?"
    ))
    .bind(cutoff_unix)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

fn command_from_row(row: &SqliteRow) -> Result<StoredCommand, StoreError> {
    let command: String = row.try_get("command")?;
    let state: String = row.try_get("state")?;

    Ok(StoredCommand {
        id: CommandId(row.try_get("id")?),
        device_id: parse_device_id(row.try_get("device_id")?)?,
        command: serde_json::from_str(&command).map_err(|error| StoreError::Corrupt {
            what: "device command",
            error,
        })?,
        state: serde_json::from_value(Value::String(state)).map_err(|error| {
            StoreError::Corrupt {
                what: "device command state",
                error,
            }
        })?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        delivered_at: row.try_get("delivered_at")?,
        acked_at: row.try_get("acked_at")?,
        error: row.try_get("error")?,
    })
}
