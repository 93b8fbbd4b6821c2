//! Resized images through the real binary: disk cache across restarts, `onesheet cache`,
//! readiness figures, and a disk that is full.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::harness::{ServerOptions, TestServer};

async fn first_poster_url(server: &TestServer) -> String {
    let page: serde_json::Value = server
        .get("/api/v1/playlist?limit=500")
        .await
        .json()
        .await
        .unwrap();
    page["items"][0]["images"]["poster"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn readiness(server: &TestServer) -> serde_json::Value {
    server.get("/health/ready").await.json().await.unwrap()
}

/// Runs `onesheet cache ...` against a data directory, with extra environment variables.
fn run_cache_command(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_onesheet"));
    // Variables that steer the test suite share the prefix and would be read as unknown keys.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ONESHEET_") {
            command.env_remove(name);
        }
    }
    command
        .arg("cache")
        .args(args)
        .env("ONESHEET_DATA_DIR", data_dir)
        .envs(env.iter().copied())
        .current_dir(data_dir)
        .output()
        .unwrap()
}

/// Runs `onesheet cache ...` against a data directory and returns its standard output.
fn cache_command(data_dir: &Path, args: &[&str]) -> String {
    let output = run_cache_command(data_dir, args, &[]);
    assert!(
        output.status.success(),
        "onesheet cache {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Lists every file under `root` with its size.
fn files_under(root: &Path) -> Vec<(PathBuf, u64)> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for item in std::fs::read_dir(&folder).unwrap() {
            let item = item.unwrap();
            let metadata = item.metadata().unwrap();
            if metadata.is_dir() {
                folders.push(item.path());
            } else {
                files.push((item.path(), metadata.len()));
            }
        }
    }
    files.sort();
    files
}

/// Counts the folders directly under `root`.
fn folder_count(root: &Path) -> usize {
    std::fs::read_dir(root)
        .unwrap()
        .filter(|item| item.as_ref().unwrap().file_type().unwrap().is_dir())
        .count()
}

#[tokio::test]
async fn resized_images_survive_restart_in_disk_cache() {
    let mut server = TestServer::start(ServerOptions {
        media_posters: 3,
        ..ServerOptions::default()
    })
    .await;
    let url = format!("{}&w=240", first_poster_url(&server).await);

    let first = server.get_absolute(&url).await;
    assert_eq!(first.status(), 200, "{}", server.log_tail());
    assert_eq!(first.headers()["content-type"], "image/jpeg");
    assert_eq!(first.headers()["vary"], "Accept, User-Agent");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = first.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (240, 360));

    let ready = readiness(&server).await;
    assert_eq!(ready["images"]["derivations"], 1, "{ready}");
    assert_eq!(ready["images"]["disk"]["entries"], 1, "{ready}");

    // A restart serves the same bytes from disk without deriving again.
    server.restart().await;
    let again = server.get_absolute(&url).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(again.bytes().await.unwrap(), bytes);
    let ready = readiness(&server).await;
    assert_eq!(ready["images"]["derivations"], 0, "{ready}");
    assert_eq!(ready["images"]["memory"]["disk_hits"], 1, "{ready}");
}

#[tokio::test]
async fn cache_commands_report_and_clear() {
    let mut server = TestServer::start(ServerOptions {
        media_posters: 2,
        ..ServerOptions::default()
    })
    .await;
    let url = first_poster_url(&server).await;
    for width in [240, 480, 720] {
        let response = server.get_absolute(&format!("{url}&w={width}")).await;
        assert_eq!(response.status(), 200);
    }
    server.stop().await;

    let data_dir = server.data_dir();
    let stats: serde_json::Value =
        serde_json::from_str(&cache_command(&data_dir, &["stats", "--json"])).unwrap();
    assert_eq!(stats["entries"], 3, "{stats}");
    assert!(stats["bytes"].as_u64().unwrap() > 0, "{stats}");

    let text = cache_command(&data_dir, &["stats"]);
    assert!(text.contains("entries     3"), "{text}");
    assert!(text.contains("of 2.0 GiB"), "{text}");

    let cleared = cache_command(&data_dir, &["clear"]);
    assert!(cleared.starts_with("removed 3 derived images"), "{cleared}");
    let stats: serde_json::Value =
        serde_json::from_str(&cache_command(&data_dir, &["stats", "--json"])).unwrap();
    assert_eq!(stats["entries"], 0, "{stats}");

    // Originals are untouched: the server still serves and derives them.
    server.launch().await;
    let response = server.get_absolute(&format!("{url}&w=240")).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn cache_stats_changes_nothing() {
    let mut server = TestServer::start(ServerOptions {
        media_posters: 2,
        ..ServerOptions::default()
    })
    .await;
    let url = first_poster_url(&server).await;
    for width in [240, 480, 720] {
        let response = server.get_absolute(&format!("{url}&w={width}")).await;
        assert_eq!(response.status(), 200);
    }
    server.stop().await;

    let data_dir = server.data_dir();
    let cache_dir = data_dir.join("cache");
    std::fs::write(cache_dir.join("tmp/entry.4242.0.tmp"), b"being written").unwrap();
    std::fs::write(cache_dir.join("00/notes.txt"), b"not an entry").unwrap();
    let before = files_under(&cache_dir);

    // A cap far below the cache's size, as when the command runs without the server's
    // settings: reading the figures must still evict nothing.
    let output = run_cache_command(
        &data_dir,
        &["stats", "--json"],
        &[("ONESHEET_CACHE__MAX_BYTES", "1000")],
    );
    assert!(output.status.success(), "{output:?}");
    let stats: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    assert_eq!(files_under(&cache_dir), before);
    assert_eq!(stats["entries"], 3, "{stats}");
    assert_eq!(stats["max_bytes"], 1000, "{stats}");
    assert_eq!(stats["temp_files"], 1, "{stats}");
    for counter in ["hits", "misses", "evictions"] {
        assert!(stats.get(counter).is_none(), "{counter} in {stats}");
    }
}

#[tokio::test]
async fn cache_stats_of_missing_folder_fails() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();

    let output = run_cache_command(&data_dir, &["stats"], &[]);

    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains(&data_dir.join("cache").display().to_string()),
        "{message}"
    );
    assert!(message.contains("cache.dir"), "{message}");
    assert!(message.contains("data_dir"), "{message}");
    assert_eq!(folder_count(&data_dir), 0, "the command created folders");
}

#[tokio::test]
async fn running_server_notices_cache_clear() {
    let server = TestServer::start(ServerOptions {
        media_posters: 2,
        ..ServerOptions::default()
    })
    .await;
    let url = first_poster_url(&server).await;
    for width in [240, 480] {
        let response = server.get_absolute(&format!("{url}&w={width}")).await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(readiness(&server).await["images"]["disk"]["entries"], 2);

    // A write of the server's in progress must survive the clear.
    let data_dir = server.data_dir();
    let in_flight = data_dir.join("cache/tmp/entry.4242.0.tmp");
    std::fs::write(&in_flight, b"being written").unwrap();
    let cleared = cache_command(&data_dir, &["clear"]);
    assert!(cleared.starts_with("removed 2 derived images"), "{cleared}");
    assert!(in_flight.exists(), "clear deleted a temporary file");

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = readiness(&server).await;
        if ready["images"]["disk"]["entries"] == 0 {
            assert_eq!(ready["images"]["disk"]["bytes"], 0, "{ready}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server still counts the cleared entries: {ready}\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        server.log_tail().contains("cleared by another process"),
        "{}",
        server.log_tail()
    );

    // New variants are derived and cached again.
    let response = server.get_absolute(&format!("{url}&w=720")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(readiness(&server).await["images"]["disk"]["entries"], 1);
}

#[tokio::test]
async fn full_disk_serves_images_without_caching() {
    let cache_dir = tempfile::tempdir().unwrap();
    let Some(_mount) = crate::harness::TmpfsMount::new(cache_dir.path(), "16k") else {
        return;
    };

    let server = TestServer::start(ServerOptions {
        media_posters: 4,
        // No free-space floor, so writes run into ENOSPC rather than being skipped.
        env: vec![
            (
                "ONESHEET_CACHE__DIR".to_owned(),
                cache_dir.path().display().to_string(),
            ),
            ("ONESHEET_CACHE__MIN_FREE_BYTES".to_owned(), "0".to_owned()),
        ],
        ..ServerOptions::default()
    })
    .await;
    let page: serde_json::Value = server
        .get("/api/v1/playlist?limit=500")
        .await
        .json()
        .await
        .unwrap();
    for item in page["items"].as_array().unwrap() {
        let url = item["images"]["poster"].as_str().unwrap();
        for width in [720, 960, 1280] {
            let response = server.get_absolute(&format!("{url}&w={width}")).await;
            assert_eq!(response.status(), 200, "{}", server.log_tail());
            assert!(!response.bytes().await.unwrap().is_empty());
        }
    }

    // The warning about the cache is logged, but not once per image.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log_tail();
    let warnings = log
        .lines()
        .filter(|line| line.contains("served without caching"))
        .count();
    assert!((1..=2).contains(&warnings), "{warnings} warnings:\n{log}");
    assert!(log.contains("writing to the image cache failed"), "{log}");
    let ready = readiness(&server).await;
    assert_eq!(ready["status"], "ready", "{ready}");
}
