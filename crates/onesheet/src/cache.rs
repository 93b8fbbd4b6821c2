//! `onesheet cache stats` and `onesheet cache clear`: the disk cache of derived images from the
//! command line.
//!
//! Both work on the cache folder directly, so they also work while the server is stopped. With
//! the server running, `clear` is safe: the server treats a deleted entry as a miss and derives
//! the image again.

use std::fmt::Write as _;

use anyhow::Context;
use bytesize::ByteSize;
use onesheet_images::cache::disk::{DiskCache, DiskCacheConfig, DiskCacheStats};

use crate::cli::CacheCommand;
use crate::config::Config;

/// Runs one cache command and returns what to print.
pub fn run(config: &Config, command: &CacheCommand) -> anyhow::Result<String> {
    let folder = config.cache_dir();
    let cache = DiskCache::open(
        &folder,
        DiskCacheConfig {
            max_bytes: config.cache.max_bytes.as_u64(),
            min_free_bytes: config.cache.min_free_bytes.as_u64(),
        },
    )
    .with_context(|| format!("cannot open the image cache in {}", folder.display()))?;

    match command {
        CacheCommand::Stats { json: true } => {
            let mut text = serde_json::to_string_pretty(&cache.stats())?;
            text.push('\n');
            Ok(text)
        }
        CacheCommand::Stats { json: false } => {
            Ok(render_stats(&folder.display().to_string(), &cache.stats()))
        }
        CacheCommand::Clear => {
            let cleared = cache
                .clear()
                .with_context(|| format!("cannot clear the image cache in {}", folder.display()))?;
            cache
                .persist_index()
                .with_context(|| format!("cannot save the cache index in {}", folder.display()))?;
            Ok(format!(
                "removed {} derived images ({}) from {}\n",
                cleared.entries,
                human(cleared.bytes),
                folder.display()
            ))
        }
    }
}

fn render_stats(folder: &str, stats: &DiskCacheStats) -> String {
    let used_percent = if stats.max_bytes == 0 {
        0.0
    } else {
        stats.bytes as f64 * 100.0 / stats.max_bytes as f64
    };
    let mut out = String::new();
    let _ = writeln!(out, "folder      {folder}");
    let _ = writeln!(out, "entries     {}", stats.entries);
    let _ = writeln!(
        out,
        "size        {} of {} ({used_percent:.1}%)",
        human(stats.bytes),
        human(stats.max_bytes)
    );
    let free = stats.free_bytes.map_or_else(|| "unknown".to_owned(), human);
    let _ = writeln!(
        out,
        "free space  {free} (the cache stops writing below {})",
        human(stats.min_free_bytes)
    );
    out
}

fn human(bytes: u64) -> String {
    ByteSize(bytes).display().iec().to_string()
}
