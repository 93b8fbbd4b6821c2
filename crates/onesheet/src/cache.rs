//! `onesheet cache stats` and `onesheet cache clear`: the disk cache of derived images from the
//! command line.
//!
//! Both work on the cache folder directly, so they also work while the server is stopped, and
//! neither opens the cache as the server does. `stats` only reads: it creates no folder and
//! deletes, evicts or rewrites nothing. `clear` deletes the derived images and the saved index
//! but leaves the temporary folder alone, because a running server may be writing there. It
//! then leaves a marker, and a running server re-reads the folder within a few seconds, so its
//! entry count and size stop counting the deleted files.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use bytesize::ByteSize;
use onesheet_images::cache::disk::DiskCache;
use serde::Serialize;

use crate::cli::CacheCommand;
use crate::config::Config;

/// The folder's figures and the configured limits, as `cache stats --json` prints them.
/// Counters such as hits and evictions belong to the server process, which reports them on
/// `/health/ready`, so this process prints none of its own.
#[derive(Debug, Serialize)]
struct StatsReport {
    folder: String,
    entries: u64,
    bytes: u64,
    max_bytes: u64,
    min_free_bytes: u64,
    free_bytes: Option<u64>,
    temp_files: u64,
}

/// Runs one cache command and returns what to print.
pub fn run(config: &Config, command: &CacheCommand) -> anyhow::Result<String> {
    let folder = config.cache_dir();

    match command {
        CacheCommand::Stats { json } => {
            let stats = DiskCache::inspect(&folder).context("cannot read the image cache")?;
            let report = StatsReport {
                folder: folder.display().to_string(),
                entries: stats.entries,
                bytes: stats.bytes,
                max_bytes: config.cache.max_bytes.as_u64(),
                min_free_bytes: config.cache.min_free_bytes.as_u64(),
                free_bytes: stats.free_bytes,
                temp_files: stats.temp_files,
            };
            if *json {
                let mut text = serde_json::to_string_pretty(&report)?;
                text.push('\n');
                Ok(text)
            } else {
                Ok(render_stats(&report))
            }
        }
        CacheCommand::Clear => clear(&folder),
    }
}

fn clear(folder: &Path) -> anyhow::Result<String> {
    let cleared = DiskCache::clear_folder(folder).context("cannot clear the image cache")?;
    Ok(format!(
        "removed {} derived images ({}) from {}\n",
        cleared.entries,
        human(cleared.bytes),
        folder.display()
    ))
}

fn render_stats(report: &StatsReport) -> String {
    let used_percent = if report.max_bytes == 0 {
        0.0
    } else {
        report.bytes as f64 * 100.0 / report.max_bytes as f64
    };
    let mut out = String::new();
    let _ = writeln!(out, "folder      {}", report.folder);
    let _ = writeln!(out, "entries     {}", report.entries);
    let _ = writeln!(
        out,
        "size        {} of {} ({used_percent:.1}%)",
        human(report.bytes),
        human(report.max_bytes)
    );
    let free = report
        .free_bytes
        .map_or_else(|| "unknown".to_owned(), human);
    let _ = writeln!(
        out,
        "free space  {free} (the cache stops writing below {})",
        human(report.min_free_bytes)
    );
    if report.temp_files > 0 {
        let _ = writeln!(
            out,
            "temporary   {} files being written, or left by a crash",
            report.temp_files
        );
    }
    out
}

fn human(bytes: u64) -> String {
    ByteSize(bytes).display().iec().to_string()
}
