//! `/api/v1/admin/logs`: the server's recent log lines, redacted, as JSON, as a live stream of
//! server-sent events, and as a text file.
//!
//! Every route takes a `level` query parameter (`error`, `warn`, `info`, `debug` or `trace`,
//! default `info`) and returns lines of that level or more severe. Which levels exist at all
//! depends on the server's `log.level`: a line the logger drops is never kept.
//!
//! The log shows what the server does with every source and screen, so API tokens need the
//! `admin` scope here, also to read. A live stream checks its session or token every
//! [`crate::auth::FEED_RECHECK_INTERVAL`] and ends once it is no longer valid.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use onesheet_domain::FieldError;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{broadcast, watch};
use tokio::time::sleep_until;
use tracing::{debug, warn};

use crate::auth::{FeedAccess, FullAdminAccess};
use crate::error::ApiError;
use crate::logs::{
    CAPACITY, LogBuffer, LogLevel, LogLine, MAX_LOG_STREAMS, MAX_LOG_STREAMS_PER_CALLER,
    StreamRejection, StreamSlot,
};
use crate::routes::table::RouteTable;
use crate::state::AppState;

/// Lines returned by `GET /api/v1/admin/logs` without a `limit`.
const DEFAULT_LIMIT: usize = 500;

/// Lines a new stream starts with, before the live ones. A reconnecting browser instead gets
/// every kept line after the last one it received.
const STREAM_BACKLOG: usize = 200;

/// Time between comments that keep an idle stream open through proxies that close silent
/// connections, such as nginx after 60 seconds.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/admin/logs", recent)
        .get("/api/v1/admin/logs/stream", stream)
        .get("/api/v1/admin/logs/download", download)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    level: Option<String>,
    limit: Option<usize>,
}

/// The query, checked: the least severe level to return, and how many lines.
struct LogRequest {
    level: LogLevel,
    limit: usize,
}

fn parse_query(query: Result<Query<LogQuery>, QueryRejection>) -> Result<LogRequest, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::InvalidInput(FieldError::new(
            "query",
            format!(
                "invalid log query: {}. Use level and limit",
                rejection.body_text()
            ),
        ))
    })?;
    let level = match query.level.as_deref() {
        None | Some("") => LogLevel::Info,
        Some(text) => LogLevel::parse(text).ok_or_else(|| {
            ApiError::InvalidInput(FieldError::new(
                "level",
                format!(
                    "invalid log level {:?}: use {}",
                    text.chars().take(32).collect::<String>(),
                    LogLevel::NAMES
                ),
            ))
        })?,
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=CAPACITY).contains(&limit) {
        return Err(ApiError::InvalidInput(FieldError::new(
            "limit",
            format!("invalid limit {limit}: use 1 to {CAPACITY} lines"),
        )));
    }
    Ok(LogRequest { level, limit })
}

/// Returns the newest lines, oldest first.
async fn recent(
    _: FullAdminAccess,
    State(state): State<AppState>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let request = parse_query(query)?;
    let lines = state.logs.recent(request.level, request.limit);
    let body = json!({
        "level": request.level,
        "capacity": CAPACITY,
        "lines": lines,
    });
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// Returns the kept lines as a text file to save.
async fn download(
    _: FullAdminAccess,
    State(state): State<AppState>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(mut query) = query.map_err(|rejection| {
        ApiError::InvalidInput(FieldError::new(
            "query",
            format!("invalid log query: {}. Use level", rejection.body_text()),
        ))
    })?;
    // The file contains every kept line of the level, so any limit in the query is ignored.
    query.limit = Some(CAPACITY);
    let request = parse_query(Ok(Query(query)))?;

    let mut text = String::new();
    for line in state.logs.recent(request.level, request.limit) {
        text.push_str(&line.text);
        text.push('\n');
    }
    let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S");
    let disposition = format!("attachment; filename=\"onesheet-log-{stamp}.txt\"");
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Streams lines as server-sent events: first the backlog, then each new line as it is
/// logged. Each `line` event carries a [`LogLine`] as JSON, with an event id made of the
/// server's boot id and the line's `seq`. A `skipped` event carries the number of lines lost
/// because the client read too slowly.
///
/// With `Last-Event-ID` (a reconnecting `EventSource` sends it), the backlog is every kept
/// line after that one, so a short disconnection loses nothing. An id from before a server
/// restart gets the usual backlog.
async fn stream(
    FullAdminAccess(access): FullAdminAccess,
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let mut query = query;
    if let Ok(Query(query)) = &mut query {
        // Only the level applies; the backlog has its own size.
        query.limit = None;
    }
    let request = parse_query(query)?;
    let last_seen = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_event_id(value, state.logs.boot_id()));

    let credential = access.actor.credential();
    let slot = match state.logs.open_stream(&credential) {
        Ok(slot) => slot,
        Err(StreamRejection::ServerFull) => {
            warn!(
                max_streams = MAX_LOG_STREAMS,
                "log stream rejected: too many open streams"
            );
            return Err(ApiError::Busy {
                reason: format!(
                    "{MAX_LOG_STREAMS} live log streams are open already: close other log \
                     pages, or retry in a minute"
                ),
                retry_after_seconds: 60,
            });
        }
        Err(StreamRejection::CallerFull) => {
            warn!(
                actor = %access.actor.audit_name(),
                max_streams = MAX_LOG_STREAMS_PER_CALLER,
                "log stream rejected: too many open streams for one caller"
            );
            return Err(ApiError::Busy {
                reason: format!(
                    "this session or token has {MAX_LOG_STREAMS_PER_CALLER} live log streams \
                     open already: close other log pages, or retry in a minute"
                ),
                retry_after_seconds: 60,
            });
        }
    };
    let access = FeedAccess::new(state.clone(), credential);
    let tail = LogTail::start(&state.logs, request.level, last_seen, access, slot);
    let mut response = Sse::new(tail.into_stream())
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // nginx buffers responses by default, which would hold the lines back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One client's position in the log.
struct LogTail {
    level: LogLevel,
    boot_id: u64,
    /// Lines to send before waiting for live ones.
    backlog: VecDeque<Arc<LogLine>>,
    /// The `seq` of the last line sent; live lines up to it were in the backlog already.
    last_sent: u64,
    live: broadcast::Receiver<Arc<LogLine>>,
    closed: watch::Receiver<bool>,
    access: FeedAccess,
    /// Counts this stream against the limits until it ends.
    _slot: StreamSlot,
}

impl LogTail {
    fn start(
        logs: &LogBuffer,
        level: LogLevel,
        last_seen: Option<u64>,
        access: FeedAccess,
        slot: StreamSlot,
    ) -> Self {
        // Subscribing before reading the backlog means no line falls between the two; the
        // ones in both are skipped by `seq`.
        let live = logs.subscribe();
        let backlog = match last_seen {
            Some(seq) => logs.after(seq, level),
            None => logs.recent(level, STREAM_BACKLOG),
        };
        Self {
            level,
            boot_id: logs.boot_id(),
            backlog: backlog.into(),
            last_sent: last_seen.unwrap_or(0),
            live,
            closed: logs.closed(),
            access,
            _slot: slot,
        }
    }

    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        futures::stream::unfold(self, |mut tail| async move {
            let event = tail.next_event().await?;
            Some((Ok(event), tail))
        })
    }

    /// Returns the next event, or None once the server shuts down or the stream's session or
    /// token is no longer valid.
    async fn next_event(&mut self) -> Option<Event> {
        if !self.access.still_valid().await {
            debug!("log stream ends because its session or token is no longer valid");
            return None;
        }
        if let Some(line) = self.backlog.pop_front() {
            self.last_sent = self.last_sent.max(line.seq);
            return Some(line_event(self.boot_id, &line));
        }
        loop {
            if *self.closed.borrow() {
                return None;
            }
            if !self.access.still_valid().await {
                debug!("log stream ends because its session or token is no longer valid");
                return None;
            }
            let received = tokio::select! {
                received = self.live.recv() => received,
                _ = self.closed.changed() => return None,
                () = sleep_until(self.access.next_check()) => continue,
            };
            match received {
                Ok(line) if line.seq <= self.last_sent || line.level < self.level => {}
                Ok(line) => {
                    self.last_sent = line.seq;
                    return Some(line_event(self.boot_id, &line));
                }
                Err(broadcast::error::RecvError::Lagged(lost)) => {
                    return Some(Event::default().event("skipped").data(lost.to_string()));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Returns the event id of `line`: the buffer's boot id and the line's `seq`, so that an id from
/// before a restart is not taken for a position in the new log.
fn event_id(boot_id: u64, line: &LogLine) -> String {
    format!("{boot_id:x}.{}", line.seq)
}

/// Returns the `seq` of an event id made by [`event_id`], or None when it is malformed or comes
/// from another boot of the server.
fn parse_event_id(id: &str, boot_id: u64) -> Option<u64> {
    let (boot, seq) = id.trim().split_once('.')?;
    if u64::from_str_radix(boot, 16).ok()? != boot_id {
        return None;
    }
    seq.parse().ok()
}

fn line_event(boot_id: u64, line: &LogLine) -> Event {
    let data = serde_json::to_string(line).unwrap_or_else(|_| "{}".to_owned());
    Event::default()
        .event("line")
        .id(event_id(boot_id, line))
        .data(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_belong_to_one_boot() {
        let line = LogLine {
            seq: 42,
            level: LogLevel::Info,
            text: "x".to_owned(),
        };
        let id = event_id(0xabc, &line);
        assert_eq!(id, "abc.42");
        assert_eq!(parse_event_id(&id, 0xabc), Some(42));
        assert_eq!(parse_event_id(&id, 0xabd), None);
        assert_eq!(parse_event_id("42", 0xabc), None);
        assert_eq!(parse_event_id("abc.x", 0xabc), None);
    }
}
