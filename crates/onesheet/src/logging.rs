//! Log output: readable text by default, one JSON object per line for log collectors.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

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
        .with_writer(std::io::stderr);
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
