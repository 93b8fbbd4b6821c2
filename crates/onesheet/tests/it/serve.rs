//! The real binary on real files: catalog, images, watcher, restart, shutdown and logs.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::fixtures::{gradient_jpeg, write_mixed_posters};
use crate::harness::{ServerOptions, TestServer, http_client};

/// Generous bound for the watcher; the target is 2 s, and the measured latency is printed.
const WATCH_DEADLINE: Duration = Duration::from_secs(15);

async fn playlist(server: &TestServer) -> serde_json::Value {
    let response = server.get("/api/v1/playlist?limit=500").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn titles(page: &serde_json::Value) -> HashSet<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn mixed_folder_skips_bad_files() {
    let mut server = TestServer::prepare(ServerOptions::default());
    let fixtures = write_mixed_posters(&server.data_dir().join("media"));
    server.launch().await;

    let page = playlist(&server).await;
    let shown = titles(&page);
    let expected: HashSet<String> = fixtures
        .iter()
        .filter_map(|f| f.title.map(str::to_owned))
        .collect();
    assert_eq!(shown, expected, "{}", server.log_tail());
    assert_eq!(page["items"][0]["demo"], false);

    for item in page["items"].as_array().unwrap() {
        let title = item["title"].as_str().unwrap();
        let fixture = fixtures.iter().find(|f| f.title == Some(title)).unwrap();
        let url = item["images"]["poster"].as_str().unwrap();
        let response = server.get_absolute(url).await;
        assert_eq!(response.status(), 200, "{title}");
        assert_eq!(response.headers()["content-type"], fixture.mime, "{title}");
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            fixture.bytes.as_slice(),
            "{title}"
        );
    }

    // One warning per rejected file, each naming it.
    let log = server.log_tail();
    for fixture in fixtures.iter().filter(|f| f.title.is_none()) {
        let mentions = log
            .lines()
            .filter(|line| line.contains(fixture.name) && line.contains("WARN"))
            .count();
        assert_eq!(mentions, 1, "{}: {log}", fixture.name);
    }
    assert!(!log.contains(" 500 "), "{log}");
}

#[tokio::test]
async fn new_poster_appears_without_restart() {
    let server = TestServer::start(ServerOptions {
        media_posters: 2,
        ..ServerOptions::default()
    })
    .await;
    let before = playlist(&server).await;
    assert_eq!(before["total"], 2);

    let added = Instant::now();
    std::fs::write(
        server
            .data_dir()
            .join("media/posters/Fresh Arrival (2026).jpg"),
        gradient_jpeg(40, 60),
    )
    .unwrap();

    loop {
        let page = playlist(&server).await;
        if titles(&page).contains("Fresh Arrival") {
            eprintln!(
                "new poster listed {} ms after it was written",
                added.elapsed().as_millis()
            );
            assert_eq!(page["total"], 3);
            break;
        }
        assert!(
            added.elapsed() < WATCH_DEADLINE,
            "new poster never appeared\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A deletion is picked up the same way.
    std::fs::remove_file(
        server
            .data_dir()
            .join("media/posters/Fresh Arrival (2026).jpg"),
    )
    .unwrap();
    let removed = Instant::now();
    while titles(&playlist(&server).await).contains("Fresh Arrival") {
        assert!(
            removed.elapsed() < WATCH_DEADLINE,
            "deleted poster still listed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn demo_library_gives_way_to_real_posters() {
    let server = TestServer::start(ServerOptions::default()).await;
    let demo = playlist(&server).await;
    assert!(demo["total"].as_u64().unwrap() >= 24);
    assert!(
        demo["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|item| item["demo"] == true)
    );
    let background = demo["items"][0]["images"]["background"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = server.get_absolute(&background).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");

    std::fs::write(
        server.data_dir().join("media/posters/Real One (1999).jpg"),
        gradient_jpeg(40, 60),
    )
    .unwrap();
    let deadline = Instant::now() + WATCH_DEADLINE;
    loop {
        let page = playlist(&server).await;
        if page["total"] == 1 {
            assert_eq!(page["items"][0]["title"], "Real One");
            assert_eq!(page["items"][0]["demo"], false);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "demo items still shown\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Generous bound for the demo library's palettes: about 50 images painted and decoded by a
/// debug build on a shared machine. The measured time is printed.
const ENRICHMENT_DEADLINE: Duration = Duration::from_secs(90);

fn is_hex_color(value: &serde_json::Value) -> bool {
    value.as_str().is_some_and(|color| {
        color.len() == 7
            && color.starts_with('#')
            && color[1..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Waits until every playlist item has a palette and a ThumbHash and every enrichment pass has
/// logged its end, which comes after the catalog is saved. Returns the playlist then.
async fn wait_for_palettes(server: &TestServer) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let page = playlist(server).await;
        let items = page["items"].as_array().unwrap();
        let complete = !items.is_empty()
            && items.iter().all(|item| {
                item["palette"].as_array().is_some_and(|p| !p.is_empty())
                    && item["thumbhash"].is_string()
            });
        let log = server.log_tail();
        let passes_started = log.matches("computing palettes and placeholders").count();
        let passes_finished = log.matches("palettes and placeholders computed").count();
        if complete && passes_started > 0 && passes_finished == passes_started {
            eprintln!(
                "palettes listed and saved {} ms after the server was ready",
                started.elapsed().as_millis()
            );
            return page;
        }
        assert!(
            started.elapsed() < ENRICHMENT_DEADLINE,
            "palettes still missing: {page}\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn demo_items_gain_palette_and_thumbhash() {
    let mut server = TestServer::start(ServerOptions::default()).await;
    let enriched = wait_for_palettes(&server).await;
    for item in enriched["items"].as_array().unwrap() {
        let palette = item["palette"].as_array().unwrap();
        assert!(palette.len() <= 5, "{item}");
        assert!(palette.iter().all(is_hex_color), "{item}");
        let thumbhash = item["thumbhash"].as_str().unwrap();
        assert!((4..=64).contains(&thumbhash.len()), "{thumbhash}");
    }

    // The saved catalog brings the palettes back at once after a restart.
    server.stop().await;
    server.launch().await;
    let restarted = playlist(&server).await;
    assert_eq!(restarted["generation"], enriched["generation"]);
    assert_eq!(restarted["items"], enriched["items"]);
}

#[tokio::test]
async fn restart_serves_the_saved_catalog() {
    let mut server = TestServer::start(ServerOptions {
        media_posters: 5,
        ..ServerOptions::default()
    })
    .await;
    // Enrichment publishes and saves new generations; the comparison below needs the last one.
    let before = wait_for_palettes(&server).await;
    assert!(server.data_dir().join("catalog.json").exists());

    // With the media folder unreadable after the restart, only the saved catalog can supply
    // the items.
    let media = server.data_dir().join("media");
    let parked = server.data_dir().join("media-parked");
    server.stop().await;
    std::fs::rename(&media, &parked).unwrap();
    server.launch().await;

    let after = playlist(&server).await;
    assert_eq!(after["generation"], before["generation"]);
    assert_eq!(titles(&after), titles(&before));
    let ready: serde_json::Value = server.get("/health/ready").await.json().await.unwrap();
    assert_eq!(ready["catalog"]["items"], 5);
}

#[tokio::test]
async fn sigterm_stops_cleanly_and_closes_the_database() {
    let mut server = TestServer::start(ServerOptions::default()).await;
    assert_eq!(server.get("/health").await.status(), 200);

    let status = server.stop().await.expect("the server was running");
    assert!(
        status.success(),
        "exit status {status}\n{}",
        server.log_tail()
    );
    let log = server.log_tail();
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(log.contains("database closed"), "{log}");
    // SQLite removes the write-ahead log when the last connection closes cleanly.
    assert!(!server.data_dir().join("onesheet.db-wal").exists());
}

#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let server = TestServer::start(ServerOptions {
        env: vec![("ONESHEET_LOG__FORMAT".into(), "json".into())],
        ..ServerOptions::default()
    })
    .await;
    let response = server.get("/api/v1/playlist?limit=0").await;
    assert_eq!(response.status(), 400);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["request_id"], request_id.as_str());

    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log_tail();
    let mut found = false;
    for line in log.lines().filter(|line| line.starts_with('{')) {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        // Display routes have a DEBUG span, so their error line carries the id as a field.
        if entry["span"]["request.id"] == request_id.as_str()
            || entry["request.id"] == request_id.as_str()
        {
            found = true;
        }
    }
    assert!(found, "no JSON log line for request {request_id}\n{log}");
}

#[tokio::test]
async fn unicode_twins_served_symlink_skipped() {
    let mut server = TestServer::prepare(ServerOptions::default());
    let posters = server.data_dir().join("media/posters");
    std::fs::create_dir_all(posters.join("nfd/Ame\u{301}lie (2001)")).unwrap();
    std::fs::create_dir_all(posters.join("nfc/Am\u{e9}lie (2001)")).unwrap();
    std::fs::write(
        posters.join("nfd/Ame\u{301}lie (2001)/poster.jpg"),
        gradient_jpeg(40, 60),
    )
    .unwrap();
    std::fs::write(
        posters.join("nfc/Am\u{e9}lie (2001)/poster.jpg"),
        gradient_jpeg(41, 60),
    )
    .unwrap();
    let outside = server.data_dir().join("secret.jpg");
    std::fs::write(&outside, gradient_jpeg(40, 60)).unwrap();
    std::os::unix::fs::symlink(&outside, posters.join("Escape (2020).jpg")).unwrap();
    server.launch().await;

    let page = playlist(&server).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    for item in items {
        assert_eq!(item["title"], "Am\u{e9}lie", "titles are NFC");
        let response = server
            .get_absolute(item["images"]["poster"].as_str().unwrap())
            .await;
        assert_eq!(response.status(), 200);
    }
    assert!(server.log_tail().contains("Escape (2020).jpg"));
}

#[tokio::test]
async fn base_path_moves_the_whole_site() {
    let server = TestServer::start(ServerOptions {
        base_path: Some("/posters".into()),
        media_posters: 1,
        ..ServerOptions::default()
    })
    .await;
    assert_eq!(server.get("/screensaver").await.status(), 200);
    let page = playlist(&server).await;
    let poster = page["items"][0]["images"]["poster"].as_str().unwrap();
    assert!(poster.starts_with("/posters/img/"), "{poster}");
    assert_eq!(server.get_absolute(poster).await.status(), 200);
    assert_eq!(server.get_absolute("/health").await.status(), 404);
}

#[tokio::test]
async fn half_sent_request_is_closed_after_header_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = TestServer::start(ServerOptions::default()).await;
    let address = server.base_url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    let started = Instant::now();
    let mut buffer = Vec::new();
    // The server allows 30 s for the headers; 60 s leaves room for a loaded machine.
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "connection still open after 60 s");
    eprintln!(
        "half-sent request closed after {} ms",
        started.elapsed().as_millis()
    );
}

#[tokio::test]
async fn idle_connection_does_not_delay_shutdown() {
    let mut server = TestServer::start(ServerOptions::default()).await;
    let address = server.base_url().trim_start_matches("http://").to_owned();
    let _idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let status = server.stop().await.expect("the server was running");
    assert!(status.success(), "exit status {status}");
    // The drain allows 10 s for requests in flight; a connection without a request has none.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "shutdown waited {} ms for an idle connection",
        started.elapsed().as_millis()
    );
}

#[tokio::test]
async fn replaced_media_folder_is_watched_again() {
    let server = TestServer::start(ServerOptions {
        media_posters: 1,
        ..ServerOptions::default()
    })
    .await;
    let media = server.data_dir().join("media");
    std::fs::remove_dir_all(&media).unwrap();
    // Let the rescan after the removal finish, so only a new watch can see what comes next.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    std::fs::create_dir_all(media.join("posters")).unwrap();
    std::fs::write(
        media.join("posters/Second Life (2002).jpg"),
        gradient_jpeg(40, 60),
    )
    .unwrap();

    let replaced = Instant::now();
    loop {
        let page = playlist(&server).await;
        if titles(&page) == HashSet::from(["Second Life".to_owned()]) {
            break;
        }
        assert!(
            replaced.elapsed() < WATCH_DEADLINE,
            "new folder not picked up\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn oversized_body_is_rejected_as_json() {
    let server = TestServer::start(ServerOptions::default()).await;
    let response = http_client()
        .get(server.url("/health"))
        .body(vec![b'x'; 100 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "body-too-large");
}

#[tokio::test]
async fn keep_alive_outlasts_the_screen_interval() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn health_on(stream: &mut tokio::net::TcpStream) -> String {
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut received = Vec::new();
        let mut chunk = [0u8; 4096];
        while !String::from_utf8_lossy(&received).contains("{\"status\":\"ok\"}") {
            let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
                .await
                .expect("no response within 10 s")
                .unwrap();
            assert!(
                read > 0,
                "connection closed: {}",
                String::from_utf8_lossy(&received)
            );
            received.extend_from_slice(&chunk[..read]);
        }
        String::from_utf8_lossy(&received).into_owned()
    }

    let server = TestServer::start(ServerOptions::default()).await;
    let address = server.base_url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    assert!(health_on(&mut stream).await.starts_with("HTTP/1.1 200"));

    // Screens poll every 10 s by default; the connection must still be there after that.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert!(health_on(&mut stream).await.starts_with("HTTP/1.1 200"));
}
