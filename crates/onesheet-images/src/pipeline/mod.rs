//! The derived-image service: memory cache, then disk cache, then one bounded derivation.
//!
//! A request for a variant (one image at one size, fit and format) is answered from the
//! memory cache when it is hot. Otherwise it joins the lookup in flight for that variant, or
//! starts one: the disk cache first, then a failure remembered for the image, then a
//! derivation on the bounded [`WorkPool`]. A lookup runs in its own task and stays in the
//! in-flight map until it ends. A request that gives up at its deadline therefore wastes no
//! work, and later requests for the same variant wait on that lookup instead of starting
//! another. The result lands in the memory and disk caches for the next request.
//!
//! Failures are remembered per image version, so a broken file is decoded and logged once per
//! lifetime rather than on every request of every screen. Both caches are consulted first, so
//! a remembered failure never hides a variant made before it. A failure that the same bytes
//! would repeat (invalid, unsupported, too large, undecodable) is remembered for
//! [`PipelineConfig::failure_ttl`]; a missing original, which a share that drops for a moment
//! also causes, for at most [`TRANSIENT_FAILURE_TTL`]. Read errors and a full queue are not
//! remembered.

mod failure;
mod in_flight;
mod pool;
mod warn;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::watch;

pub use failure::{FailureReason, ImageFailure, LoadError, TRANSIENT_FAILURE_TTL};
pub use pool::{PoolStats, WorkPool};

use crate::ImageFormat;
use crate::cache::disk::{CacheKey, DiskCache, DiskCacheStats, PutOutcome};
use crate::derive::{self, DecodeLimits, DeriveRequest, Fit, OutputFormat};
use failure::{FailureExpiry, failure_lifetime};
use in_flight::{InFlightGuard, InFlightLookups, Joined};
use warn::RateLimitedWarning;

/// Settings of the image service.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Bytes of encoded images the memory cache keeps.
    pub memory_bytes: u64,
    pub limits: DecodeLimits,
    /// Derivations that run at once; each takes one blocking thread.
    pub workers: usize,
    /// Derivations that may wait for a worker before requests are turned away as busy.
    pub queue: usize,
    /// How long one request waits for its image before it gets a 503.
    pub deadline: Duration,
    /// How long an image whose bytes cannot be decoded is remembered before it is tried again.
    /// A missing original is remembered for the shorter of this and [`TRANSIENT_FAILURE_TTL`].
    pub failure_ttl: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            memory_bytes: 64 * 1024 * 1024,
            limits: DecodeLimits::default(),
            workers: std::thread::available_parallelism().map_or(2, |cores| cores.get()),
            queue: 128,
            deadline: Duration::from_secs(20),
            failure_ttl: Duration::from_secs(600),
        }
    }
}

/// The original an image variant is derived from: the source, the source's key for the image
/// and its version. Any change of version changes every cache key derived from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageIdentity {
    pub source: String,
    pub key: String,
    pub version: String,
}

/// An encoded derived image.
#[derive(Debug, Clone)]
pub struct Variant {
    pub bytes: Bytes,
    pub format: OutputFormat,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PipelineError {
    /// The image cannot be produced; the failure is cached.
    #[error("{0}")]
    Failed(Arc<ImageFailure>),
    /// Every worker is busy and the queue is full.
    #[error("the image queue is full; retry in {retry_after_seconds} s")]
    Busy { retry_after_seconds: u32 },
    /// The request's deadline passed first. The derivation goes on, fills the caches, and
    /// later requests for the variant wait on it.
    #[error("the image was not ready within {deadline:?}; retry shortly")]
    TimedOut { deadline: Duration },
    /// A bug or a lost task; not cached.
    #[error("image processing failed: {0}")]
    Internal(String),
    /// The source holding the original failed; not cached. `code` is the source's error code.
    #[error("{detail}")]
    Upstream { code: &'static str, detail: String },
}

/// Counters since start, for `/health/ready` and `onesheet cache stats`.
#[derive(Debug, Default)]
struct Counters {
    memory_hits: AtomicU64,
    memory_misses: AtomicU64,
    disk_hits: AtomicU64,
    derivations: AtomicU64,
    failures: AtomicU64,
    timeouts: AtomicU64,
    /// Total derivation time in microseconds, for the mean and the Retry-After estimate.
    derive_micros: AtomicU64,
}

/// Figures of the image service at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineStats {
    pub memory: MemoryStats,
    /// `None` when the disk cache is off or could not be opened.
    pub disk: Option<DiskCacheStats>,
    pub derivations: u64,
    pub mean_derive_ms: f64,
    pub failures: u64,
    pub failures_cached: u64,
    pub timeouts: u64,
    pub pool: PoolStats,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemoryStats {
    pub entries: u64,
    pub bytes: u64,
    pub max_bytes: u64,
    pub hits: u64,
    pub misses: u64,
    pub disk_hits: u64,
}

/// The derived-image service. Cheap to share: keep one in an `Arc`.
pub struct ImagePipeline {
    memory_bytes: u64,
    shared: Arc<Shared>,
}

/// The result of one lookup, shared by every request that waits on it.
type Outcome = Result<Variant, PipelineError>;

/// State shared with the detached lookup tasks, which outlive the requests that start them.
struct Shared {
    memory: moka::future::Cache<CacheKey, Variant>,
    disk: Option<Arc<DiskCache>>,
    failures: moka::sync::Cache<ImageIdentity, Arc<ImageFailure>>,
    in_flight: InFlightLookups,
    pool: WorkPool,
    limits: DecodeLimits,
    deadline: Duration,
    failure_ttl: Duration,
    counters: Counters,
    disk_warning: RateLimitedWarning,
    timeout_warning: RateLimitedWarning,
}

/// Most failures remembered at once; a library of broken files beyond this is decoded again
/// sooner, which costs time but not correctness.
const MAX_CACHED_FAILURES: u64 = 100_000;

/// JPEG quality, part of every cache key so that changing it cannot serve stale bytes.
const QUALITY_TAG: &[u8] = b"q85";

/// Shortest time between two warnings of one kind; the ones in between are counted.
const WARNING_INTERVAL: Duration = Duration::from_secs(60);

impl ImagePipeline {
    /// Builds the service. `disk` is `None` when caching on disk is off or failed to open.
    pub fn new(config: PipelineConfig, disk: Option<Arc<DiskCache>>) -> Self {
        let memory = moka::future::Cache::builder()
            .max_capacity(config.memory_bytes)
            .weigher(|_key: &CacheKey, variant: &Variant| {
                u32::try_from(variant.bytes.len()).unwrap_or(u32::MAX)
            })
            .build();
        let failures = moka::sync::Cache::builder()
            .max_capacity(MAX_CACHED_FAILURES)
            .expire_after(FailureExpiry {
                failure_ttl: config.failure_ttl,
            })
            .build();
        Self {
            memory_bytes: config.memory_bytes,
            shared: Arc::new(Shared {
                memory,
                disk,
                failures,
                in_flight: InFlightLookups::default(),
                pool: WorkPool::new(config.workers, config.queue),
                limits: config.limits,
                deadline: config.deadline,
                failure_ttl: config.failure_ttl,
                counters: Counters::default(),
                disk_warning: RateLimitedWarning::new(WARNING_INTERVAL),
                timeout_warning: RateLimitedWarning::new(WARNING_INTERVAL),
            }),
        }
    }

    pub fn limits(&self) -> &DecodeLimits {
        &self.shared.limits
    }

    /// Returns the cache key of one variant. It doubles as the strong ETag, because equal keys
    /// always name equal bytes.
    pub fn variant_key(identity: &ImageIdentity, request: &DeriveRequest) -> CacheKey {
        let request = snapped(request);
        let fit: &[u8] = match request.fit {
            Fit::Contain => b"contain",
            Fit::Cover => b"cover",
        };
        let format: &[u8] = match request.format {
            OutputFormat::Jpeg => b"jpeg",
            OutputFormat::Webp => b"webp",
            OutputFormat::Png => b"png",
        };
        let height = request.height.unwrap_or(0);
        CacheKey::from_parts(&[
            b"onesheet-variant",
            &derive::PIPELINE_VERSION.to_le_bytes(),
            identity.source.as_bytes(),
            identity.key.as_bytes(),
            identity.version.as_bytes(),
            &request.width.to_le_bytes(),
            &height.to_le_bytes(),
            fit,
            format,
            QUALITY_TAG,
        ])
    }

    /// Returns one variant. A request that arrives while a lookup of the variant is in flight,
    /// even one whose first request gave up at its deadline, waits on that lookup instead of
    /// starting another. `load` reads the original, and runs only when neither cache has the
    /// variant and no lookup of it is in flight.
    pub async fn variant<L, F>(
        &self,
        identity: ImageIdentity,
        request: DeriveRequest,
        load: L,
    ) -> Result<Variant, PipelineError>
    where
        L: FnOnce() -> F + Send + 'static,
        F: Future<Output = Result<Vec<u8>, LoadError>> + Send + 'static,
    {
        let request = snapped(&request);
        let key = Self::variant_key(&identity, &request);
        let shared = &self.shared;
        if let Some(variant) = shared.memory.get(&key).await {
            shared.counters.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(variant);
        }
        shared
            .counters
            .memory_misses
            .fetch_add(1, Ordering::Relaxed);

        let image = (identity.source.clone(), identity.key.clone());
        let mut outcome = shared.join_or_start(key, identity, request, load);
        let deadline = shared.deadline;
        match tokio::time::timeout(deadline, outcome.wait_for(Option::is_some)).await {
            Ok(Ok(sent)) => sent.clone().unwrap_or_else(|| {
                Err(PipelineError::Internal(
                    "the image lookup ended without a result".to_owned(),
                ))
            }),
            Ok(Err(_closed)) => Err(PipelineError::Internal(
                "the image lookup stopped before it finished".to_owned(),
            )),
            Err(_elapsed) => {
                shared.counters.timeouts.fetch_add(1, Ordering::Relaxed);
                let (source, key) = image;
                shared.timeout_warning.warn(|suppressed| {
                    tracing::warn!(
                        source.id = %source,
                        image.key = %key,
                        deadline_ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
                        suppressed,
                        "an image was not ready by the request deadline; the client was told to \
                         retry and the derivation goes on for the next request"
                    );
                });
                Err(PipelineError::TimedOut { deadline })
            }
        }
    }

    /// Returns the failure remembered for an image, if it failed within the failure lifetime.
    pub fn cached_failure(&self, identity: &ImageIdentity) -> Option<Arc<ImageFailure>> {
        self.shared.failures.get(identity)
    }

    pub fn stats(&self) -> PipelineStats {
        let counters = &self.shared.counters;
        let derivations = counters.derivations.load(Ordering::Relaxed);
        let micros = counters.derive_micros.load(Ordering::Relaxed);
        PipelineStats {
            memory: MemoryStats {
                entries: self.shared.memory.entry_count(),
                bytes: self.shared.memory.weighted_size(),
                max_bytes: self.memory_bytes,
                hits: counters.memory_hits.load(Ordering::Relaxed),
                misses: counters.memory_misses.load(Ordering::Relaxed),
                disk_hits: counters.disk_hits.load(Ordering::Relaxed),
            },
            disk: self.shared.disk.as_ref().map(|disk| disk.stats()),
            derivations,
            mean_derive_ms: if derivations == 0 {
                0.0
            } else {
                micros as f64 / derivations as f64 / 1000.0
            },
            failures: counters.failures.load(Ordering::Relaxed),
            failures_cached: self.shared.failures.entry_count(),
            timeouts: counters.timeouts.load(Ordering::Relaxed),
            pool: self.shared.pool.stats(),
        }
    }

    /// Drops every variant held in memory and every remembered failure. The disk cache is
    /// cleared separately, by the command line, and [`Self::reload_disk_if_cleared`] brings
    /// the server's view of it up to date.
    pub fn clear_memory(&self) {
        self.shared.memory.invalidate_all();
        self.shared.failures.invalidate_all();
    }

    /// Saves the disk cache's recency index; called periodically and at shutdown.
    pub async fn persist(&self) {
        let Some(disk) = self.shared.disk.clone() else {
            return;
        };
        let saved = tokio::task::spawn_blocking(move || disk.persist_index()).await;
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "saving the image cache index failed"),
            Err(error) => tracing::warn!(%error, "saving the image cache index failed"),
        }
    }

    /// Re-reads the disk cache's folder when another process (`onesheet cache clear`) cleared
    /// it since the last call, so the entry count and size stop counting deleted files.
    /// Returns true when it did. Otherwise it costs one small file read.
    pub async fn reload_disk_if_cleared(&self) -> bool {
        let Some(disk) = self.shared.disk.clone() else {
            return false;
        };
        let reloaded = tokio::task::spawn_blocking(move || disk.reload_if_cleared()).await;
        match reloaded {
            Ok(Ok(reloaded)) => reloaded,
            Ok(Err(error)) => {
                tracing::warn!(%error, "re-reading the image cache after it was cleared failed");
                false
            }
            Err(error) => {
                tracing::warn!(%error, "re-reading the image cache after it was cleared failed");
                false
            }
        }
    }
}

/// Snaps both sides of the box to the width ladder, so that however many sizes clients ask
/// for, one image has at most a few dozen variants per fit and format.
///
/// NOTE: the width and the height snap separately, so boxes that give the same output can
/// have different keys: `w=241` and `w=250&h=20000` both make one 360-wide poster, stored
/// twice. A 2:3 poster at one width has up to 10 keys for one output, which costs extra
/// decodes and disk space, though never more than 540 variants per image. The snapped box
/// also need not match the request: `w=3000&h=500` snaps the height to 720 and returns
/// 480×720.
fn snapped(request: &DeriveRequest) -> DeriveRequest {
    DeriveRequest {
        width: derive::snap_width(request.width),
        height: request.height.map(derive::snap_width),
        ..*request
    }
}

impl Shared {
    /// Returns a receiver for the outcome of the lookup of `key`, joining the one in flight or
    /// starting one in its own task.
    fn join_or_start<L, F>(
        self: &Arc<Self>,
        key: CacheKey,
        identity: ImageIdentity,
        request: DeriveRequest,
        load: L,
    ) -> watch::Receiver<Option<Outcome>>
    where
        L: FnOnce() -> F + Send + 'static,
        F: Future<Output = Result<Vec<u8>, LoadError>> + Send + 'static,
    {
        let (id, sender, outcome) = match self.in_flight.join_or_insert(key) {
            Joined::InFlight(outcome) => return outcome,
            Joined::Started {
                id,
                sender,
                outcome,
            } => (id, sender, outcome),
        };

        let shared = Arc::clone(self);
        tokio::spawn(async move {
            let _guard = InFlightGuard::new(Arc::clone(&shared), key, id);
            let result = Arc::clone(&shared)
                .lookup(key, identity, request, load)
                .await;
            // The memory cache gets the variant before the lookup leaves the map, so a request
            // that finds no lookup in flight finds the variant instead.
            if let Ok(variant) = &result {
                shared.memory.insert(key, variant.clone()).await;
            }
            sender.send_replace(Some(result));
        });
        outcome
    }

    /// Finds or makes one variant: memory, disk, remembered failure, then a derivation.
    async fn lookup<L, F>(
        self: Arc<Self>,
        key: CacheKey,
        identity: ImageIdentity,
        request: DeriveRequest,
        load: L,
    ) -> Outcome
    where
        L: FnOnce() -> F + Send + 'static,
        F: Future<Output = Result<Vec<u8>, LoadError>> + Send + 'static,
    {
        // An earlier lookup may have stored the variant after this request missed the memory
        // cache and before it reached the in-flight map.
        if let Some(variant) = self.memory.get(&key).await {
            return Ok(variant);
        }
        if let Some(variant) = self.read_disk(key).await {
            self.counters.disk_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(variant);
        }
        if let Some(failure) = self.failures.get(&identity) {
            return Err(PipelineError::Failed(failure));
        }
        self.produce(key, identity, request, load).await
    }

    async fn read_disk(&self, key: CacheKey) -> Option<Variant> {
        let disk = self.disk.clone()?;
        let bytes = tokio::task::spawn_blocking(move || disk.get(&key))
            .await
            .ok()??;
        let format = match crate::sniff(&bytes)? {
            ImageFormat::Jpeg => OutputFormat::Jpeg,
            ImageFormat::Webp => OutputFormat::Webp,
            ImageFormat::Png => OutputFormat::Png,
            _ => return None,
        };
        Some(Variant {
            bytes: Bytes::from(bytes),
            format,
        })
    }

    /// Waits for a worker, loads the original, derives the variant and stores it on disk.
    async fn produce<L, F>(
        self: Arc<Self>,
        key: CacheKey,
        identity: ImageIdentity,
        request: DeriveRequest,
        load: L,
    ) -> Result<Variant, PipelineError>
    where
        L: FnOnce() -> F + Send + 'static,
        F: Future<Output = Result<Vec<u8>, LoadError>> + Send + 'static,
    {
        let permit = self
            .pool
            .acquire(self.mean_derive_time())
            .await
            .map_err(|busy| PipelineError::Busy {
                retry_after_seconds: busy.retry_after_seconds,
            })?;

        // While this waited for a worker, another process sharing the cache folder, or a
        // lookup of this key that ended before this one started, may have stored the variant.
        if let Some(variant) = self.read_disk(key).await {
            self.counters.disk_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(variant);
        }

        // The original is read only once a worker is free, so a long queue holds requests,
        // not originals of up to the input limit each.
        let original = match load().await {
            Ok(original) => original,
            Err(LoadError::Io(detail)) => return Err(PipelineError::Internal(detail)),
            Err(LoadError::Upstream { code, detail }) => {
                return Err(PipelineError::Upstream { code, detail });
            }
            Err(error) => return Err(self.remember(&identity, ImageFailure::from_load(error))),
        };

        let worker = Arc::clone(&self);
        let image = identity.clone();
        let derived = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            worker.derive_and_store(key, &image, &original, &request)
        })
        .await
        .map_err(|join_error| PipelineError::Internal(join_error.to_string()))?;

        derived.map_err(|error| self.remember(&identity, ImageFailure::from_derive(&error)))
    }

    /// Runs on a blocking thread while holding a worker permit.
    fn derive_and_store(
        &self,
        key: CacheKey,
        identity: &ImageIdentity,
        original: &[u8],
        request: &DeriveRequest,
    ) -> Result<Variant, derive::DeriveError> {
        let started = Instant::now();
        self.counters.derivations.fetch_add(1, Ordering::Relaxed);
        let derived = derive::derive(original, request, &self.limits);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.counters
            .derive_micros
            .fetch_add(micros, Ordering::Relaxed);
        let derived = derived?;
        for warning in &derived.warnings {
            tracing::warn!(
                source.id = %identity.source,
                image.key = %identity.key,
                %warning,
                "image derived with a warning"
            );
        }

        if let Some(disk) = &self.disk {
            match disk.put(&key, &derived.bytes) {
                Ok(PutOutcome::Stored | PutOutcome::SkippedTooLarge) => {}
                Ok(PutOutcome::SkippedLowSpace) => self.disk_warning.warn(|suppressed| {
                    tracing::warn!(
                        suppressed,
                        "image cache skipped: free disk space is below cache.min_free_bytes; \
                         images are served without caching"
                    );
                }),
                Err(error) => self.disk_warning.warn(|suppressed| {
                    tracing::warn!(
                        %error,
                        suppressed,
                        "writing to the image cache failed; images are served without caching"
                    );
                }),
            }
        }

        Ok(Variant {
            bytes: Bytes::from(derived.bytes),
            format: derived.format,
        })
    }

    /// Caches a failure and logs it once; repeats within the failure lifetime hit the cache.
    fn remember(&self, identity: &ImageIdentity, failure: ImageFailure) -> PipelineError {
        self.counters.failures.fetch_add(1, Ordering::Relaxed);
        let lifetime = failure_lifetime(failure.reason, self.failure_ttl);
        tracing::warn!(
            source.id = %identity.source,
            image.key = %identity.key,
            image.version = %identity.version,
            reason = failure.reason.code(),
            detail = %failure.detail,
            skipped_seconds = lifetime.as_secs(),
            "image cannot be produced; skipping it for a while"
        );
        let failure = Arc::new(failure);
        self.failures.insert(identity.clone(), Arc::clone(&failure));
        PipelineError::Failed(failure)
    }

    fn mean_derive_time(&self) -> Duration {
        let derivations = self.counters.derivations.load(Ordering::Relaxed);
        let micros = self.counters.derive_micros.load(Ordering::Relaxed);
        if derivations == 0 {
            return Duration::from_millis(50);
        }
        Duration::from_micros(micros / derivations)
    }
}

#[cfg(test)]
mod tests;
