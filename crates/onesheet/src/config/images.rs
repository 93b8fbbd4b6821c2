//! The `[cache]` and `[images]` tables: where derived images are cached, how much they may
//! take, and the limits on decoding originals.

use std::path::PathBuf;
use std::time::Duration;

use bytesize::ByteSize;
use onesheet_images::cache::disk::DiskCacheConfig;
use onesheet_images::derive::DecodeLimits;
use onesheet_images::pipeline::PipelineConfig;
use serde::{Deserialize, Deserializer, Serialize};

/// Derived-image caches, the `[cache]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Folder of the disk cache, or `None` for `<data_dir>/cache`.
    pub dir: Option<PathBuf>,
    /// Bytes the disk cache may hold; least recently used entries go first. 0 turns the disk
    /// cache off.
    pub max_bytes: ByteSize,
    /// Free space the disk cache leaves on its filesystem; below it, images are served without
    /// being cached.
    pub min_free_bytes: ByteSize,
    /// Bytes of the most requested derived images kept in memory.
    pub memory_bytes: ByteSize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        let disk = DiskCacheConfig::default();
        Self {
            dir: None,
            max_bytes: ByteSize(disk.max_bytes),
            min_free_bytes: ByteSize(disk.min_free_bytes),
            memory_bytes: ByteSize(PipelineConfig::default().memory_bytes),
        }
    }
}

/// Decoding limits and work bounds, the `[images]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImagesConfig {
    /// Largest original accepted, in pixels (width times height).
    #[serde(deserialize_with = "number")]
    pub max_pixels: u64,
    /// Largest width or height of an original, in pixels.
    #[serde(deserialize_with = "number")]
    pub max_side: u64,
    /// Largest original file read.
    pub max_input_bytes: ByteSize,
    /// Decodes that run at once; 0 means one per CPU core.
    #[serde(deserialize_with = "number")]
    pub workers: u64,
    /// Decodes that may wait for a worker before requests get 503 with Retry-After.
    #[serde(deserialize_with = "number")]
    pub queue: u64,
    /// Seconds one request waits for its image before it gets 503; the work still finishes
    /// and is cached.
    #[serde(deserialize_with = "number")]
    pub deadline_seconds: u64,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        let limits = DecodeLimits::default();
        let pipeline = PipelineConfig::default();
        Self {
            max_pixels: limits.max_pixels,
            max_side: u64::from(limits.max_side),
            max_input_bytes: ByteSize(limits.max_input_bytes),
            workers: 0,
            queue: pipeline.queue as u64,
            deadline_seconds: pipeline.deadline.as_secs(),
        }
    }
}

/// Inclusive bounds of each numeric key, checked by validation. The upper bounds stop typos
/// (an extra zero) from turning a limit off.
pub const MAX_PIXELS_RANGE: (u64, u64) = (1, 1_000_000_000);
pub const MAX_SIDE_RANGE: (u64, u64) = (1, 65_535);
pub const MAX_INPUT_BYTES_RANGE: (u64, u64) = (1024, 1024 * 1024 * 1024);
pub const WORKERS_RANGE: (u64, u64) = (0, 256);
pub const QUEUE_RANGE: (u64, u64) = (0, 100_000);
pub const DEADLINE_RANGE: (u64, u64) = (1, 600);
pub const MEMORY_BYTES_RANGE: (u64, u64) = (0, 64 * 1024 * 1024 * 1024);

impl ImagesConfig {
    pub fn decode_limits(&self) -> DecodeLimits {
        DecodeLimits {
            max_pixels: self.max_pixels,
            max_side: u32::try_from(self.max_side).unwrap_or(u32::MAX),
            max_input_bytes: self.max_input_bytes.as_u64(),
        }
    }

    /// Builds the image service settings from both tables.
    pub fn pipeline(&self, cache: &CacheConfig) -> PipelineConfig {
        let defaults = PipelineConfig::default();
        PipelineConfig {
            memory_bytes: cache.memory_bytes.as_u64(),
            limits: self.decode_limits(),
            workers: if self.workers == 0 {
                defaults.workers
            } else {
                usize::try_from(self.workers).unwrap_or(defaults.workers)
            },
            queue: usize::try_from(self.queue).unwrap_or(defaults.queue),
            deadline: Duration::from_secs(self.deadline_seconds),
            failure_ttl: defaults.failure_ttl,
        }
    }
}

/// Accepts a whole number or a string of digits, because environment variables arrive as
/// strings.
fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Integer(u64),
        Text(String),
    }

    match Number::deserialize(deserializer)? {
        Number::Integer(value) => Ok(value),
        Number::Text(text) => text.trim().parse().map_err(|_| {
            serde::de::Error::invalid_value(
                serde::de::Unexpected::Str(&text),
                &"a whole number such as 4",
            )
        }),
    }
}
