//! Cache and warning behaviour of the scan, observed through the scan statistics and the
//! captured log.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tracing_subscriber::fmt::MakeWriter;

use super::*;
use crate::local::tests::{jpeg_bytes, put};

fn local() -> SourceId {
    SourceId::new("local").unwrap()
}

/// A log sink that keeps every line written to it.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn count(&self, needle: &str) -> usize {
        self.text().matches(needle).count()
    }
}

impl Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLog {
    type Writer = CapturedLog;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Runs `body` with warnings going to the returned log.
fn with_log<T>(body: impl FnOnce() -> T) -> (T, CapturedLog) {
    let log = CapturedLog::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let result = tracing::subscriber::with_default(subscriber, body);
    (result, log)
}

#[test]
fn rescan_reuses_probe_results() {
    let media = tempfile::tempdir().unwrap();
    let jpeg = jpeg_bytes(16, 24);
    for index in 0..300 {
        put(
            media.path(),
            &format!("posters/set{}/Film {index}.jpg", index % 7),
            &jpeg,
        );
    }
    let mut state = ScanState::default();

    let (items, first) = scan(&local(), media.path(), &mut state).unwrap();
    assert_eq!(items.len(), 300);
    assert_eq!(first.probed, 300);

    let (_, second) = scan(&local(), media.path(), &mut state).unwrap();
    assert_eq!(second.probed, 0);

    put(media.path(), "posters/set0/Film 0.jpg", &jpeg_bytes(17, 24));
    let (_, third) = scan(&local(), media.path(), &mut state).unwrap();
    assert_eq!(third.probed, 1);
}

#[test]
fn bad_file_warns_once_per_change() {
    let media = tempfile::tempdir().unwrap();
    let jpeg = jpeg_bytes(16, 24);
    put(media.path(), "posters/Good (2000).jpg", &jpeg);
    let truncated = put(
        media.path(),
        "posters/Cut (2001).jpg",
        &jpeg[..jpeg.len() / 2],
    );
    put(media.path(), "posters/Page (2002).jpg", b"<html>502</html>");
    put(media.path(), "posters/Nil (2003).jpg", b"");
    let mut state = ScanState::default();

    let (stats, log) = with_log(|| {
        let (_, first) = scan(&local(), media.path(), &mut state).unwrap();
        let (_, second) = scan(&local(), media.path(), &mut state).unwrap();
        (first, second)
    });

    assert_eq!(stats.0.rejected, 3);
    assert_eq!(stats.1.rejected, 3);
    assert_eq!(log.count("posters/Cut (2001).jpg"), 1, "{}", log.text());
    assert_eq!(log.count("posters/Page (2002).jpg"), 1, "{}", log.text());
    assert_eq!(log.count("posters/Nil (2003).jpg"), 1, "{}", log.text());
    assert_eq!(log.count("WARN"), 3, "{}", log.text());

    // A changed file is checked again and, still broken, warned about again.
    fs::write(&truncated, &jpeg[..jpeg.len() / 3]).unwrap();
    let (_, log) = with_log(|| scan(&local(), media.path(), &mut state).unwrap());
    assert_eq!(log.count("posters/Cut (2001).jpg"), 1, "{}", log.text());
    assert_eq!(log.count("WARN"), 1, "{}", log.text());
}

#[test]
fn malformed_nfo_warns_once() {
    let media = tempfile::tempdir().unwrap();
    put(
        media.path(),
        "posters/Heat (1995)/poster.jpg",
        &jpeg_bytes(16, 24),
    );
    put(
        media.path(),
        "posters/Heat (1995)/movie.nfo",
        b"<movie><title>Heat</movie>",
    );
    let mut state = ScanState::default();

    let (items, log) = with_log(|| {
        scan(&local(), media.path(), &mut state).unwrap();
        scan(&local(), media.path(), &mut state).unwrap().0
    });

    assert_eq!(items[0].title, "Heat");
    assert_eq!(log.count("movie.nfo"), 1, "{}", log.text());
}

#[cfg(unix)]
#[test]
fn escaping_symlink_warns_once_and_loop_ends() {
    let media = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let jpeg = jpeg_bytes(16, 24);
    put(media.path(), "posters/Inside (2000).jpg", &jpeg);
    put(outside.path(), "Outside (2000).jpg", &jpeg);
    std::os::unix::fs::symlink(
        outside.path().join("Outside (2000).jpg"),
        media.path().join("posters/Outside (2000).jpg"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), media.path().join("posters/outside-dir")).unwrap();
    std::os::unix::fs::symlink(
        media.path().join("posters"),
        media.path().join("posters/loop"),
    )
    .unwrap();
    let mut state = ScanState::default();

    let (items, log) = with_log(|| {
        scan(&local(), media.path(), &mut state).unwrap();
        scan(&local(), media.path(), &mut state).unwrap().0
    });

    let keys: Vec<&str> = items
        .iter()
        .map(|item| item.upstream_key.as_str())
        .collect();
    assert_eq!(keys, ["posters/Inside (2000).jpg"]);
    assert_eq!(
        log.count("points outside the media folder"),
        2,
        "{}",
        log.text()
    );
    assert_eq!(log.count("loops back"), 1, "{}", log.text());
}

#[cfg(unix)]
#[test]
fn escaping_category_folder_is_skipped() {
    let media = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    put(outside.path(), "Heat (1995).jpg", &jpeg_bytes(16, 24));
    std::os::unix::fs::symlink(outside.path(), media.path().join("posters")).unwrap();
    let mut state = ScanState::default();

    let (items, _) = scan(&local(), media.path(), &mut state).unwrap();

    assert!(items.is_empty());
}

#[cfg(unix)]
#[test]
fn non_utf8_name_is_skipped() {
    use std::os::unix::ffi::OsStrExt;

    let media = tempfile::tempdir().unwrap();
    let folder = media.path().join("posters");
    fs::create_dir_all(&folder).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"Caf\xe9 (1999).jpg");
    // Some file systems (such as ZFS with utf8only) refuse such names; nothing to test there.
    if fs::write(folder.join(name), jpeg_bytes(16, 24)).is_err() {
        return;
    }
    let mut state = ScanState::default();

    let ((items, _), log) = with_log(|| scan(&local(), media.path(), &mut state).unwrap());

    assert!(items.is_empty());
    assert_eq!(log.count("not valid UTF-8"), 1, "{}", log.text());
}

/// Scan time for 10,000 posters. Run with
/// `cargo test -p onesheet-sources --release -- --ignored --nocapture scan_ten_thousand`.
#[test]
#[ignore = "timing check; writes 10,000 files"]
fn scan_ten_thousand_files() {
    let media = tempfile::tempdir().unwrap();
    let jpeg = jpeg_bytes(200, 300);
    for index in 0..10_000 {
        put(
            media.path(),
            &format!(
                "posters/shelf{}/Film Number {index} ({}).jpg",
                index % 50,
                1950 + index % 70
            ),
            &jpeg,
        );
    }
    let mut state = ScanState::default();

    let started = Instant::now();
    let (items, stats) = scan(&local(), media.path(), &mut state).unwrap();
    let first = started.elapsed();

    let started = Instant::now();
    let (_, rescan) = scan(&local(), media.path(), &mut state).unwrap();
    let second = started.elapsed();

    println!(
        "first scan {first:?} ({} probed), rescan {second:?}",
        stats.probed
    );
    assert_eq!(items.len(), 10_000);
    assert_eq!(rescan.probed, 0);
    assert!(first.as_secs_f64() < 2.0, "first scan took {first:?}");
}
