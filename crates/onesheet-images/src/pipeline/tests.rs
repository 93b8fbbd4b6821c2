use std::io::Cursor;
use std::sync::atomic::AtomicUsize;

use image::{ImageFormat as Codec, Rgb, RgbImage};
use tokio::sync::Notify;

use super::*;
use crate::cache::disk::DiskCacheConfig;

fn poster_jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 90])
    });
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), Codec::Jpeg)
        .unwrap();
    bytes
}

fn identity(version: &str) -> ImageIdentity {
    ImageIdentity {
        source: "local".to_owned(),
        key: "Alien (1979)/poster.jpg".to_owned(),
        version: version.to_owned(),
    }
}

fn request(width: u32) -> DeriveRequest {
    DeriveRequest {
        width,
        height: None,
        fit: Fit::Contain,
        format: OutputFormat::Jpeg,
    }
}

fn pipeline(workers: usize, queue: usize, disk: Option<Arc<DiskCache>>) -> Arc<ImagePipeline> {
    Arc::new(ImagePipeline::new(
        PipelineConfig {
            workers,
            queue,
            ..PipelineConfig::default()
        },
        disk,
    ))
}

fn open_disk(dir: &std::path::Path) -> Arc<DiskCache> {
    Arc::new(DiskCache::open(dir, DiskCacheConfig::default()).unwrap())
}

/// A loader that counts its calls and returns fixed bytes.
fn counting_loader(
    bytes: Vec<u8>,
    calls: &Arc<AtomicUsize>,
) -> impl FnOnce() -> std::future::Ready<Result<Vec<u8>, LoadError>> + Send + 'static {
    let calls = Arc::clone(calls);
    move || {
        calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(bytes))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_misses_share_one_decode() {
    let pipeline = pipeline(2, 128, None);
    let original = poster_jpeg(400, 600);
    let loads = Arc::new(AtomicUsize::new(0));

    let mut requests = Vec::new();
    for _ in 0..100 {
        let pipeline = Arc::clone(&pipeline);
        let load = counting_loader(original.clone(), &loads);
        requests.push(tokio::spawn(async move {
            pipeline.variant(identity("v1"), request(240), load).await
        }));
    }
    for handle in requests {
        let variant = handle.await.unwrap().unwrap();
        assert_eq!(variant.format, OutputFormat::Jpeg);
        assert!(!variant.bytes.is_empty());
    }

    assert_eq!(pipeline.stats().derivations, 1);
    assert_eq!(loads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn broken_original_is_remembered_as_failure() {
    let pipeline = pipeline(1, 8, None);
    let loads = Arc::new(AtomicUsize::new(0));
    let truncated = poster_jpeg(200, 300)[..400].to_vec();

    let first = pipeline
        .variant(
            identity("v1"),
            request(240),
            counting_loader(truncated.clone(), &loads),
        )
        .await
        .unwrap_err();
    let PipelineError::Failed(failure) = first else {
        panic!("expected a cached failure, got {first:?}");
    };
    assert_eq!(failure.reason, FailureReason::Invalid);

    // Another size of the same image fails from the cache without reading the original.
    let second = pipeline
        .variant(
            identity("v1"),
            request(720),
            counting_loader(truncated, &loads),
        )
        .await
        .unwrap_err();
    assert!(matches!(second, PipelineError::Failed(_)));
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert_eq!(pipeline.stats().failures, 1);
    assert!(pipeline.cached_failure(&identity("v1")).is_some());

    // A new version is a new image and is tried again.
    let fixed = pipeline
        .variant(
            identity("v2"),
            request(240),
            counting_loader(poster_jpeg(200, 300), &loads),
        )
        .await;
    assert!(fixed.is_ok());
}

#[tokio::test]
async fn load_errors_map_to_reasons() {
    let pipeline = pipeline(1, 8, None);

    let missing = pipeline
        .variant(identity("gone"), request(240), || async {
            Err(LoadError::NotFound)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, PipelineError::Failed(failure) if failure.reason == FailureReason::NotFound)
    );

    // A transient read error is not remembered: the next request tries again.
    let flaky = pipeline
        .variant(identity("flaky"), request(240), || async {
            Err(LoadError::Io("interrupted".to_owned()))
        })
        .await
        .unwrap_err();
    assert!(matches!(flaky, PipelineError::Internal(_)));
    assert!(pipeline.cached_failure(&identity("flaky")).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_answers_busy() {
    let pipeline = pipeline(1, 0, None);
    let release = Arc::new(Notify::new());

    // The first derivation holds the only worker until released.
    let blocker = {
        let pipeline = Arc::clone(&pipeline);
        let release = Arc::clone(&release);
        let original = poster_jpeg(100, 150);
        tokio::spawn(async move {
            pipeline
                .variant(identity("slow"), request(240), move || async move {
                    release.notified().await;
                    Ok(original)
                })
                .await
        })
    };
    while pipeline.stats().pool.active == 0 {
        tokio::task::yield_now().await;
    }

    let busy = pipeline
        .variant(identity("other"), request(240), || async {
            Ok(poster_jpeg(100, 150))
        })
        .await
        .unwrap_err();
    assert!(
        matches!(busy, PipelineError::Busy { retry_after_seconds } if retry_after_seconds >= 1)
    );
    assert_eq!(pipeline.stats().pool.rejected, 1);

    release.notify_one();
    assert!(blocker.await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_derivation_still_fills_disk_cache() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = Arc::new(ImagePipeline::new(
        PipelineConfig {
            deadline: Duration::from_millis(50),
            ..PipelineConfig::default()
        },
        Some(open_disk(dir.path())),
    ));
    let release = Arc::new(Notify::new());

    let slow = {
        let release = Arc::clone(&release);
        let original = poster_jpeg(300, 450);
        move || async move {
            release.notified().await;
            Ok(original)
        }
    };
    let timed_out = pipeline
        .variant(identity("v1"), request(240), slow)
        .await
        .unwrap_err();
    assert!(matches!(timed_out, PipelineError::TimedOut { .. }));
    assert_eq!(pipeline.stats().timeouts, 1);

    // The detached derivation finishes after the request gave up and stores its result.
    release.notify_one();
    let deadline = Instant::now() + Duration::from_secs(10);
    while pipeline.stats().disk.as_ref().unwrap().entries == 0 {
        assert!(
            Instant::now() < deadline,
            "the late derivation never reached the disk"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let loads = Arc::new(AtomicUsize::new(0));
    let served = pipeline
        .variant(
            identity("v1"),
            request(240),
            counting_loader(Vec::new(), &loads),
        )
        .await
        .unwrap();
    assert_eq!(served.format, OutputFormat::Jpeg);
    assert_eq!(loads.load(Ordering::SeqCst), 0);
    assert_eq!(pipeline.stats().derivations, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_derivation_is_joined_not_repeated() {
    let pipeline = Arc::new(ImagePipeline::new(
        PipelineConfig {
            deadline: Duration::from_millis(50),
            workers: 1,
            queue: 2,
            ..PipelineConfig::default()
        },
        None,
    ));
    let release = Arc::new(Notify::new());
    let loads = Arc::new(AtomicUsize::new(0));
    let slow_loader = || {
        let release = Arc::clone(&release);
        let loads = Arc::clone(&loads);
        let original = poster_jpeg(300, 450);
        move || async move {
            loads.fetch_add(1, Ordering::SeqCst);
            release.notified().await;
            Ok(original)
        }
    };

    // Every request gives up at its deadline while the first derivation still waits.
    for attempt in 0..3 {
        let error = pipeline
            .variant(identity("v1"), request(240), slow_loader())
            .await
            .unwrap_err();
        assert!(
            matches!(error, PipelineError::TimedOut { .. }),
            "attempt {attempt}: {error:?}"
        );
    }
    assert_eq!(pipeline.stats().timeouts, 3);
    assert_eq!(pipeline.stats().pool.waiting, 0);
    assert_eq!(pipeline.stats().pool.active, 1);

    // The next request waits for the same derivation and gets its result.
    let waiting = {
        let pipeline = Arc::clone(&pipeline);
        let load = slow_loader();
        tokio::spawn(async move { pipeline.variant(identity("v1"), request(240), load).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    release.notify_one();
    // The deadline is short, so the request may time out before the derivation ends. Later
    // requests then find the variant in memory.
    let _ = waiting.await.unwrap();
    let served = loop {
        match pipeline
            .variant(identity("v1"), request(240), slow_loader())
            .await
        {
            Ok(variant) => break variant,
            Err(PipelineError::TimedOut { .. }) => continue,
            Err(other) => panic!("{other:?}"),
        }
    };

    assert_eq!(served.format, OutputFormat::Jpeg);
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert_eq!(pipeline.stats().derivations, 1);
}

/// Collects formatted log lines, for tests that check what was logged.
#[derive(Clone, Default)]
struct LogLines(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogLines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogLines {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn deadline_timeouts_warn_once_per_interval() {
    let lines = LogLines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let pipeline = Arc::new(ImagePipeline::new(
        PipelineConfig {
            deadline: Duration::from_millis(20),
            ..PipelineConfig::default()
        },
        None,
    ));
    let never = || std::future::pending::<Result<Vec<u8>, LoadError>>();
    for attempt in 0..3 {
        let error = pipeline
            .variant(identity("v1"), request(240), never)
            .await
            .unwrap_err();
        assert!(
            matches!(error, PipelineError::TimedOut { .. }),
            "attempt {attempt}: {error:?}"
        );
    }

    let text = lines.text();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("not ready by the request deadline"))
        .collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(warnings[0].contains("WARN"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_derivation_finds_variant_stored_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let disk = open_disk(dir.path());
    let pipeline = pipeline(1, 4, Some(Arc::clone(&disk)));
    let release = Arc::new(Notify::new());

    // Another image takes the only worker.
    let blocker = {
        let pipeline = Arc::clone(&pipeline);
        let release = Arc::clone(&release);
        let original = poster_jpeg(100, 150);
        tokio::spawn(async move {
            pipeline
                .variant(identity("other"), request(240), move || async move {
                    release.notified().await;
                    Ok(original)
                })
                .await
        })
    };
    while pipeline.stats().pool.active == 0 {
        tokio::task::yield_now().await;
    }

    let loads = Arc::new(AtomicUsize::new(0));
    let queued = {
        let pipeline = Arc::clone(&pipeline);
        let load = counting_loader(poster_jpeg(300, 450), &loads);
        tokio::spawn(async move { pipeline.variant(identity("v1"), request(240), load).await })
    };
    while pipeline.stats().pool.waiting == 0 {
        tokio::task::yield_now().await;
    }

    // Another process sharing the cache folder stores the variant while the job waits.
    let key = ImagePipeline::variant_key(&identity("v1"), &request(240));
    let stored = crate::derive::derive(
        &poster_jpeg(300, 450),
        &request(240),
        &crate::derive::DecodeLimits::default(),
    )
    .unwrap();
    disk.put(&key, &stored.bytes).unwrap();
    release.notify_one();

    let served = queued.await.unwrap().unwrap();
    assert_eq!(served.bytes, stored.bytes);
    assert_eq!(loads.load(Ordering::SeqCst), 0);
    assert!(blocker.await.unwrap().is_ok());
    assert_eq!(pipeline.stats().derivations, 1);
}

#[tokio::test]
async fn remembered_failure_does_not_hide_cached_variants() {
    let dir = tempfile::tempdir().unwrap();
    let loads = Arc::new(AtomicUsize::new(0));
    let first = pipeline(1, 8, Some(open_disk(dir.path())));
    let derived = first
        .variant(
            identity("v1"),
            request(240),
            counting_loader(poster_jpeg(300, 450), &loads),
        )
        .await
        .unwrap();
    drop(first);

    // After a restart the variant is on disk only. The share drops for a moment, and another
    // size finds the original missing.
    let second = pipeline(1, 8, Some(open_disk(dir.path())));
    let missing = second
        .variant(identity("v1"), request(480), || async {
            Err(LoadError::NotFound)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, PipelineError::Failed(failure) if failure.reason == FailureReason::NotFound)
    );

    let served = second
        .variant(
            identity("v1"),
            request(240),
            counting_loader(Vec::new(), &loads),
        )
        .await
        .unwrap();
    assert_eq!(served.bytes, derived.bytes);
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert_eq!(second.stats().memory.disk_hits, 1);
}

#[test]
fn failure_lifetime_depends_on_the_reason() {
    let ttl = Duration::from_secs(600);
    for reason in [
        FailureReason::TooLarge,
        FailureReason::UnsupportedFormat,
        FailureReason::Invalid,
        FailureReason::Undecodable,
    ] {
        assert_eq!(failure_lifetime(reason, ttl), ttl, "{reason:?}");
    }
    for reason in [FailureReason::NotFound, FailureReason::Processing] {
        assert_eq!(
            failure_lifetime(reason, ttl),
            TRANSIENT_FAILURE_TTL,
            "{reason:?}"
        );
    }
    let short = Duration::from_secs(5);
    assert_eq!(failure_lifetime(FailureReason::NotFound, short), short);
}

#[tokio::test]
async fn remembered_failure_expires() {
    let pipeline = Arc::new(ImagePipeline::new(
        PipelineConfig {
            failure_ttl: Duration::from_millis(100),
            ..PipelineConfig::default()
        },
        None,
    ));
    let broken = pipeline
        .variant(identity("v1"), request(240), || async {
            Ok(b"not an image".to_vec())
        })
        .await
        .unwrap_err();
    assert!(matches!(broken, PipelineError::Failed(_)));
    assert!(pipeline.cached_failure(&identity("v1")).is_some());

    tokio::time::sleep(Duration::from_millis(300)).await;

    assert!(pipeline.cached_failure(&identity("v1")).is_none());
}

#[tokio::test]
async fn disk_cache_survives_a_new_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let original = poster_jpeg(300, 450);
    let loads = Arc::new(AtomicUsize::new(0));

    let first = pipeline(1, 8, Some(open_disk(dir.path())));
    let made = first
        .variant(
            identity("v1"),
            request(480),
            counting_loader(original.clone(), &loads),
        )
        .await
        .unwrap();
    first.persist().await;
    drop(first);

    let second = pipeline(1, 8, Some(open_disk(dir.path())));
    let served = second
        .variant(
            identity("v1"),
            request(480),
            counting_loader(original, &loads),
        )
        .await
        .unwrap();
    assert_eq!(served.bytes, made.bytes);
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert_eq!(second.stats().derivations, 0);
}

#[test]
fn variant_key_changes_with_every_part() {
    let base = ImagePipeline::variant_key(&identity("v1"), &request(480));
    let variants = [
        ImagePipeline::variant_key(&identity("v2"), &request(480)),
        ImagePipeline::variant_key(&identity("v1"), &request(720)),
        ImagePipeline::variant_key(
            &identity("v1"),
            &DeriveRequest {
                height: Some(720),
                ..request(480)
            },
        ),
        ImagePipeline::variant_key(
            &identity("v1"),
            &DeriveRequest {
                fit: Fit::Cover,
                ..request(480)
            },
        ),
        ImagePipeline::variant_key(
            &identity("v1"),
            &DeriveRequest {
                format: OutputFormat::Webp,
                ..request(480)
            },
        ),
    ];
    for other in variants {
        assert_ne!(base, other);
    }
    assert_eq!(
        base,
        ImagePipeline::variant_key(&identity("v1"), &request(480))
    );
}
