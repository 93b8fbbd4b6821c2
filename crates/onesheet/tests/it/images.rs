//! Resized images through the real binary: disk cache across restarts, `onesheet cache`,
//! readiness figures, and a disk that is full.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

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

/// Runs `onesheet cache ...` against a data directory and returns its standard output.
fn cache_command(data_dir: &Path, args: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_onesheet"));
    // Variables that steer the test suite share the prefix and would be read as unknown keys.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ONESHEET_") {
            command.env_remove(name);
        }
    }
    let output = command
        .arg("cache")
        .args(args)
        .env("ONESHEET_DATA_DIR", data_dir)
        .current_dir(data_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "onesheet cache {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
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
    assert_eq!(first.headers()["vary"], "Accept");
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
