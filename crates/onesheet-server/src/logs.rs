//! The server's recent log lines, kept in memory for the admin log page.
//!
//! The binary's logger hands every formatted line to [`LogBuffer::push`], which redacts it,
//! cuts it to [`MAX_LINE_BYTES`] and keeps the newest [`CAPACITY`] lines. Live readers
//! subscribe to a bounded broadcast queue: a reader that falls more than [`LIVE_QUEUE`] lines
//! behind loses the oldest ones and learns how many, so a slow client never makes the server
//! hold more lines than these two bounds.
//!
//! Nothing here may log: [`LogBuffer::push`] runs inside the logger, so a log line written
//! from it would recurse.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, watch};

use crate::auth::{Credential, FeedSlot, FeedSlots};

/// Lines kept in memory. At [`MAX_LINE_BYTES`] each this bounds the buffer at about 4 MiB, and
/// lines of 150 bytes make it about 300 KiB.
pub const CAPACITY: usize = 2_000;

/// Maximum length of a kept line in bytes. Longer lines are cut at a character boundary and
/// end with [`CUT_MARK`].
pub const MAX_LINE_BYTES: usize = 2_048;

/// Lines that a live reader may fall behind before it loses the oldest of them.
pub const LIVE_QUEUE: usize = 256;

/// Maximum live readers at once. Each costs a task and a queue of up to [`LIVE_QUEUE`] shared
/// lines, and an admin needs about one per open log page.
pub const MAX_LOG_STREAMS: usize = 16;

/// Maximum live readers of one session or API token, so one caller cannot take every slot.
pub const MAX_LOG_STREAMS_PER_CALLER: usize = 4;

/// Reason a live reader was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamRejection {
    /// [`MAX_LOG_STREAMS`] readers are open.
    ServerFull,
    /// The caller has [`MAX_LOG_STREAMS_PER_CALLER`] readers open.
    CallerFull,
}

/// The slots one live reader holds. Dropping it frees them.
#[derive(Debug)]
pub struct StreamSlot {
    _permit: OwnedSemaphorePermit,
    _caller_slot: FeedSlot,
}

/// Text that ends a line cut to [`MAX_LINE_BYTES`].
const CUT_MARK: &str = " [cut]";

/// Minimum length of a setup token value to redact. Setup tokens are 43 characters of
/// URL-safe base64, and the shorter words that may follow "setup token" in prose stay.
const MIN_SETUP_TOKEN_CHARS: usize = 16;

/// Severity of a log line, ordered from the least to the most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub const NAMES: &'static str = "error, warn, info, debug or trace";

    /// Parses a level name as the `level` query parameter spells it, ignoring case.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "trace" => Some(Self::Trace),
            "debug" => Some(Self::Debug),
            "info" => Some(Self::Info),
            "warn" | "warning" => Some(Self::Warn),
            "error" => Some(Self::Error),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

impl From<&tracing::Level> for LogLevel {
    fn from(level: &tracing::Level) -> Self {
        match *level {
            tracing::Level::TRACE => Self::Trace,
            tracing::Level::DEBUG => Self::Debug,
            tracing::Level::INFO => Self::Info,
            tracing::Level::WARN => Self::Warn,
            tracing::Level::ERROR => Self::Error,
        }
    }
}

/// One kept log line.
#[derive(Clone, Debug, Serialize)]
pub struct LogLine {
    /// Position in the log since start, counting from 1. The live stream sends it as the event
    /// id, so a reconnecting browser receives the lines it missed.
    pub seq: u64,
    pub level: LogLevel,
    /// The formatted line, redacted, without its line break.
    pub text: String,
}

/// The newest log lines and the live queue of new ones. Cheap to share in an `Arc`.
pub struct LogBuffer {
    /// Identifies this buffer, and so this server process, because `seq` starts at 1 again
    /// after a restart.
    boot_id: u64,
    ring: Mutex<Ring>,
    live: broadcast::Sender<Arc<LogLine>>,
    closed: watch::Sender<bool>,
    streams: Arc<Semaphore>,
    per_caller: FeedSlots,
}

struct Ring {
    next_seq: u64,
    lines: VecDeque<Arc<LogLine>>,
}

impl Default for LogBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LogBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogBuffer").finish_non_exhaustive()
    }
}

impl LogBuffer {
    pub fn new() -> Self {
        let (live, _) = broadcast::channel(LIVE_QUEUE);
        let (closed, _) = watch::channel(false);
        // Nanoseconds since the epoch differ between two starts of the server, which is all
        // this id needs. A clock before 1970 gives 0, and then reconnects after a restart
        // may skip lines.
        let boot_id = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        Self {
            boot_id,
            ring: Mutex::new(Ring {
                next_seq: 1,
                lines: VecDeque::with_capacity(CAPACITY),
            }),
            live,
            closed,
            streams: Arc::new(Semaphore::new(MAX_LOG_STREAMS)),
            per_caller: FeedSlots::new(MAX_LOG_STREAMS_PER_CALLER),
        }
    }

    /// Keeps `text` as a line of `level`: redacted, without trailing line breaks, cut to
    /// [`MAX_LINE_BYTES`], and sent to live readers. An empty line is dropped.
    pub fn push(&self, level: LogLevel, text: &str) {
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            return;
        }
        let text = cut(&redact_line(text));

        // The lock is held while sending, so live readers receive lines in `seq` order.
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        let line = Arc::new(LogLine {
            seq: ring.next_seq,
            level,
            text,
        });
        ring.next_seq += 1;
        if ring.lines.len() == CAPACITY {
            ring.lines.pop_front();
        }
        ring.lines.push_back(line.clone());
        // Sending fails only when no live reader is connected, which is not an error.
        let _ = self.live.send(line);
    }

    /// Returns the id of this buffer, which changes when the server restarts.
    pub fn boot_id(&self) -> u64 {
        self.boot_id
    }

    /// Returns the newest `limit` lines of `min_level` or more severe, oldest first.
    pub fn recent(&self, min_level: LogLevel, limit: usize) -> Vec<Arc<LogLine>> {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        let mut lines: Vec<Arc<LogLine>> = ring
            .lines
            .iter()
            .rev()
            .filter(|line| line.level >= min_level)
            .take(limit)
            .cloned()
            .collect();
        lines.reverse();
        lines
    }

    /// Returns the kept lines after `seq` of `min_level` or more severe, oldest first.
    pub fn after(&self, seq: u64, min_level: LogLevel) -> Vec<Arc<LogLine>> {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        ring.lines
            .iter()
            .filter(|line| line.seq > seq && line.level >= min_level)
            .cloned()
            .collect()
    }

    /// Returns a receiver of the lines pushed from now on. It reports
    /// [`broadcast::error::RecvError::Lagged`] with the number of lost lines when its reader
    /// falls more than [`LIVE_QUEUE`] lines behind.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LogLine>> {
        self.live.subscribe()
    }

    /// Takes the slots for one more live reader of `caller`, unless the server or the caller
    /// has its maximum of readers open already.
    pub fn open_stream(&self, caller: &Credential) -> Result<StreamSlot, StreamRejection> {
        let caller_slot = self
            .per_caller
            .try_take(caller)
            .ok_or(StreamRejection::CallerFull)?;
        let permit = self
            .streams
            .clone()
            .try_acquire_owned()
            .map_err(|_| StreamRejection::ServerFull)?;
        Ok(StreamSlot {
            _permit: permit,
            _caller_slot: caller_slot,
        })
    }

    /// Returns a receiver that changes to true when the server shuts down, so live readers end
    /// their streams instead of holding the shutdown until its drain timeout.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Ends every live stream, at shutdown.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}

/// Removes credentials from a log line before it is kept: everything that
/// [`onesheet_auth::redact`] removes, and also the setup token that the start-up message
/// names in prose ("… the setup token Abc…"). The log on standard error keeps that token so
/// that the person starting the server can read it, but the admin pages never show it.
pub fn redact_line(text: &str) -> Cow<'_, str> {
    let redacted = onesheet_auth::redact(text);
    match redact_setup_token(&redacted) {
        Some(replaced) => Cow::Owned(replaced),
        None => redacted,
    }
}

/// Replaces the value after each "setup token" (any case, one or more spaces) that is at least
/// [`MIN_SETUP_TOKEN_CHARS`] URL-safe base64 characters long. Returns None when there is none.
fn redact_setup_token(text: &str) -> Option<String> {
    const PHRASE: &str = "setup token";
    let lower = text.to_ascii_lowercase();
    let mut replaced: Option<String> = None;
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find(PHRASE) {
        let after_phrase = search + found + PHRASE.len();
        search = after_phrase;
        let value_start = after_phrase
            + text[after_phrase..]
                .bytes()
                .take_while(|byte| *byte == b' ')
                .count();
        if value_start == after_phrase {
            continue;
        }
        let value_len = text[value_start..]
            .bytes()
            .take_while(|byte| byte.is_ascii_alphanumeric() || *byte == b'-' || *byte == b'_')
            .count();
        if value_len < MIN_SETUP_TOKEN_CHARS {
            continue;
        }
        let out = replaced.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied..value_start]);
        out.push_str(onesheet_auth::redact::REDACTED);
        copied = value_start + value_len;
        search = copied;
    }
    let mut out = replaced?;
    out.push_str(&text[copied..]);
    Some(out)
}

/// Cuts `text` to at most [`MAX_LINE_BYTES`] bytes, mark included, at a character boundary.
fn cut(text: &str) -> String {
    if text.len() <= MAX_LINE_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_LINE_BYTES - CUT_MARK.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT_MARK}", &text[..end])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn setup_token_line_is_redacted() {
        let line = "INFO onesheet_server::accounts::setup: no admin account yet: create one with \
                    POST /api/v1/setup and the setup token q7Xv_3kPz-9aLmN2bC4dE5fG6hJ8iK0lM1nO2pQ3rS4 \
                    (also in the file named here) file=/data/setup-token";
        let redacted = redact_line(line);
        assert!(!redacted.contains("q7Xv_3kPz"), "{redacted}");
        assert!(
            redacted.contains("the setup token [redacted] (also in the file"),
            "{redacted}"
        );
        assert!(redacted.contains("file=/data/setup-token"), "{redacted}");
    }

    #[test]
    fn setup_token_words_in_prose_stay() {
        let line = "WARN could not remove the setup token file; delete it by hand";
        assert_eq!(redact_line(line), line);
    }

    #[test]
    fn query_credentials_are_redacted() {
        for (line, secret) in [
            (
                "WARN request failed url=http://plex.lan:32400/library/sections?X-Plex-Token=PLEXSECRET99&type=1",
                "PLEXSECRET99",
            ),
            (
                "WARN GET http://jf.lan/Items?api_key=JFSECRET42&Limit=5 failed",
                "JFSECRET42",
            ),
            (
                "DEBUG header authorization: Bearer abc.def.ghi",
                "abc.def.ghi",
            ),
            (
                "DEBUG cookie: onesheet_session=SESSIONVALUE1",
                "SESSIONVALUE1",
            ),
            (
                r#"DEBUG body {"password":"hunter2hunter2"}"#,
                "hunter2hunter2",
            ),
        ] {
            let redacted = redact_line(line);
            assert!(!redacted.contains(secret), "{redacted}");
            assert!(redacted.contains("[redacted]"), "{redacted}");
        }
    }

    #[test]
    fn pushed_lines_are_redacted_and_cut() {
        let buffer = LogBuffer::new();
        buffer.push(LogLevel::Warn, "GET /Items?api_key=TOPSECRET&x=1\n");
        let long = "é".repeat(MAX_LINE_BYTES);
        buffer.push(LogLevel::Info, &long);

        let lines = buffer.recent(LogLevel::Trace, 10);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "GET /Items?api_key=[redacted]&x=1");
        assert!(lines[1].text.len() <= MAX_LINE_BYTES);
        assert!(lines[1].text.ends_with(CUT_MARK));
    }

    #[test]
    fn buffer_keeps_the_newest_lines() {
        let buffer = LogBuffer::new();
        for number in 0..CAPACITY + 5 {
            buffer.push(LogLevel::Info, &format!("line {number}"));
        }
        let lines = buffer.recent(LogLevel::Trace, usize::MAX);
        assert_eq!(lines.len(), CAPACITY);
        assert_eq!(lines[0].text, "line 5");
        assert_eq!(lines[0].seq, 6);
    }

    #[test]
    fn level_filter_keeps_more_severe_lines() {
        let buffer = LogBuffer::new();
        buffer.push(LogLevel::Debug, "debug");
        buffer.push(LogLevel::Info, "info");
        buffer.push(LogLevel::Warn, "warn");
        buffer.push(LogLevel::Error, "error");
        let texts = |lines: Vec<Arc<LogLine>>| -> Vec<String> {
            lines.iter().map(|line| line.text.clone()).collect()
        };
        assert_eq!(texts(buffer.recent(LogLevel::Warn, 10)), ["warn", "error"]);
        assert_eq!(texts(buffer.recent(LogLevel::Info, 1)), ["error"]);
        assert_eq!(texts(buffer.after(2, LogLevel::Trace)), ["warn", "error"]);
    }

    #[test]
    fn slow_reader_learns_how_many_lines_it_lost() {
        let buffer = LogBuffer::new();
        let mut receiver = buffer.subscribe();
        for number in 0..LIVE_QUEUE + 10 {
            buffer.push(LogLevel::Info, &format!("line {number}"));
        }
        match receiver.try_recv() {
            Err(broadcast::error::TryRecvError::Lagged(lost)) => assert_eq!(lost, 10),
            other => panic!("expected a lag report, got {other:?}"),
        }
        assert_eq!(receiver.try_recv().unwrap().text, "line 10");
    }

    #[test]
    fn level_names_parse() {
        assert_eq!(LogLevel::parse("WARN"), Some(LogLevel::Warn));
        assert_eq!(LogLevel::parse("warning"), Some(LogLevel::Warn));
        assert_eq!(LogLevel::parse(" error "), Some(LogLevel::Error));
        assert_eq!(LogLevel::parse("loud"), None);
    }
}
