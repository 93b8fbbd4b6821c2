//! Log output: readable text by default, one JSON object per line for log collectors, and a
//! copy of each line in memory for the admin log page.
//!
//! Every line passes through [`onesheet_auth::redact`] before it is written, so a token, a
//! password or a cookie that reaches a log field by mistake (an upstream URL with `api_key=`,
//! a header map in a debug line) is replaced by `[redacted]` instead of being kept in a file.
//! The in-memory copy is redacted again by [`LogBuffer::push`], which also removes the setup
//! token that the start-up message shows on standard error.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use onesheet_server::logs::{LogBuffer, LogLevel};
use tracing::Metadata;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber and returns the buffer of recent lines that it fills.
/// `RUST_LOG`, when set, overrides `log.level` so a developer can turn on a module's debug
/// lines without editing the configuration. The buffer receives the lines that pass this
/// filter, always as text.
pub fn init(config: &LogConfig) -> anyhow::Result<Arc<LogBuffer>> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directive) if !directive.is_empty() => EnvFilter::try_new(&directive)?,
        _ => EnvFilter::try_new(&config.level).map_err(|error| {
            anyhow::anyhow!(
                "invalid log.level {:?}: {error}; use a level such as info or a directive such as onesheet=debug,info",
                config.level
            )
        })?,
    };
    // Colour codes only help a person at a terminal; in a file or a journal they are noise.
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(RedactingStderr);
    let stderr = match config.format {
        LogFormat::Text => stderr.boxed(),
        LogFormat::Json => stderr
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
    };
    let logs = Arc::new(LogBuffer::new());
    let capture = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(CaptureLines(logs.clone()));
    tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(capture)
        .try_init()
        .map_err(|error| anyhow::anyhow!("cannot install the logger: {error}"))?;
    Ok(logs)
}

/// Makes one [`CapturedLine`] per event, which ends up in the [`LogBuffer`].
struct CaptureLines(Arc<LogBuffer>);

impl<'a> MakeWriter<'a> for CaptureLines {
    type Writer = CapturedLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        CapturedLine::new(&self.0, LogLevel::Info)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        CapturedLine::new(&self.0, LogLevel::from(meta.level()))
    }
}

/// Collects one formatted event and hands it to the buffer when dropped, because the
/// formatter writes an event in pieces.
struct CapturedLine<'a> {
    buffer: Vec<u8>,
    level: LogLevel,
    logs: &'a LogBuffer,
}

impl<'a> CapturedLine<'a> {
    fn new(logs: &'a LogBuffer, level: LogLevel) -> Self {
        Self {
            buffer: Vec::with_capacity(256),
            level,
            logs,
        }
    }
}

impl Write for CapturedLine<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for CapturedLine<'_> {
    fn drop(&mut self) {
        if !self.buffer.is_empty() {
            self.logs
                .push(self.level, &String::from_utf8_lossy(&self.buffer));
        }
    }
}

/// Makes one [`RedactedLine`] per event, writing to standard error.
struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactedLine<std::io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLine::new(std::io::stderr())
    }
}

/// Collects one formatted event and writes it, redacted, when dropped. The formatter writes
/// an event in pieces, and a secret may span two of them, so redaction waits for the whole
/// line.
struct RedactedLine<W: Write> {
    buffer: Vec<u8>,
    inner: W,
}

impl<W: Write> RedactedLine<W> {
    fn new(inner: W) -> Self {
        Self {
            buffer: Vec::with_capacity(256),
            inner,
        }
    }
}

impl<W: Write> Write for RedactedLine<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for RedactedLine<W> {
    fn drop(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buffer);
        // A log line that cannot be written has nowhere else to go.
        let _ = self
            .inner
            .write_all(onesheet_auth::redact(&text).as_bytes());
        let _ = self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn written(pieces: &[&str]) -> String {
        let mut out = Vec::new();
        {
            let mut line = RedactedLine::new(&mut out);
            for piece in pieces {
                line.write_all(piece.as_bytes()).unwrap();
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn secrets_split_across_writes_are_redacted() {
        let line = written(&["GET http://jf.local/Items?api_", "key=SECRET123&Limit=5\n"]);
        assert!(!line.contains("SECRET123"), "{line}");
        assert!(line.contains("Limit=5"), "{line}");
    }

    #[test]
    fn captured_line_keeps_its_level() {
        let logs = LogBuffer::new();
        {
            let mut line = CapturedLine::new(&logs, LogLevel::Warn);
            line.write_all(b"WARN source failed ").unwrap();
            line.write_all(b"X-Plex-Token=PLEXSECRET\n").unwrap();
        }
        let lines = logs.recent(LogLevel::Trace, 10);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].level, LogLevel::Warn);
        assert_eq!(lines[0].text, "WARN source failed X-Plex-Token=[redacted]");
    }

    #[test]
    fn plain_lines_pass_unchanged() {
        let line = written(&["INFO request finished http.status=200\n"]);
        assert_eq!(line, "INFO request finished http.status=200\n");
    }
}
