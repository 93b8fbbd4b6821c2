//! Log output: readable text by default, one JSON object per line for log collectors.
//!
//! Every line passes through [`onesheet_auth::redact`] before it is written, so a token, a
//! password or a cookie that reaches a log field by mistake (an upstream URL with `api_key=`,
//! a header map in a debug line) is replaced by `[redacted]` instead of being kept in a file.

use std::io::{IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `log.level` so a developer can
/// turn on a module's debug lines without editing the configuration.
pub fn init(config: &LogConfig) -> anyhow::Result<()> {
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(RedactingStderr);
    let installed = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("cannot install the logger: {error}"))
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
    fn plain_lines_pass_unchanged() {
        let line = written(&["INFO request finished http.status=200\n"]);
        assert_eq!(line, "INFO request finished http.status=200\n");
    }
}
