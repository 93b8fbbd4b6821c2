//! Scripted faults and the rate limit, seen from a client.

use std::time::Duration;

use axum::http::StatusCode;
use onesheet_fakes::{
    FakeJellyfin, FakePlex, Fault, FaultRule, JellyfinConfig, Library, LibraryKind, PlexConfig,
    RateLimit,
};

use crate::support::{client, content_type, media_browser};

#[tokio::test]
async fn fault_fires_once_on_chosen_page() {
    let server = FakePlex::start(PlexConfig {
        token: "T".to_owned(),
        libraries: vec![Library::generate(LibraryKind::Movies, 1_000, 0)],
        ..PlexConfig::default()
    })
    .await
    .unwrap();
    let fault = server.control().add_fault(
        FaultRule::new(
            "/library/sections/*/all",
            Fault::Status(StatusCode::SERVICE_UNAVAILABLE),
        )
        .on_page(3)
        .once(),
    );

    let http = client();
    let fetch = |start: usize| {
        http.get(server.url("/library/sections/1/all"))
            .header("X-Plex-Token", "T")
            .header("Accept", "application/json")
            .header("X-Plex-Container-Start", start.to_string())
            .header("X-Plex-Container-Size", "100")
            .send()
    };
    let mut statuses = Vec::new();
    for page in 0..5 {
        statuses.push(fetch(page * 100).await.unwrap().status().as_u16());
    }
    let retried = fetch(300).await.unwrap().status().as_u16();

    assert_eq!(statuses, [200, 200, 200, 503, 200]);
    assert_eq!(retried, 200);
    assert_eq!(server.control().fault_hits(fault), 1);
    let recorded: Vec<Option<u16>> = server
        .recorder()
        .requests()
        .iter()
        .map(|request| request.status.map(|status| status.as_u16()))
        .collect();
    assert_eq!(recorded[3], Some(503));
}

async fn jellyfin_with_fault(rule: FaultRule) -> onesheet_fakes::FakeServer {
    let server = FakeJellyfin::start(JellyfinConfig {
        api_key: "K".to_owned(),
        libraries: vec![Library::generate(LibraryKind::Movies, 30, 0)],
        ..JellyfinConfig::default()
    })
    .await
    .unwrap();
    server.control().add_fault(rule);
    server
}

async fn get_items(server: &onesheet_fakes::FakeServer) -> reqwest::Response {
    client()
        .get(server.url("/Items?Recursive=true"))
        .header("Authorization", media_browser("K"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn truncated_body_fails_the_read() {
    let server = jellyfin_with_fault(FaultRule::new("/Items", Fault::TruncatedBody).once()).await;

    let response = get_items(&server).await;
    assert_eq!(response.status(), 200);
    let promised: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(promised > 1_000);
    assert!(
        response.bytes().await.is_err(),
        "a short body must be an error"
    );

    let whole = get_items(&server).await.bytes().await.unwrap();
    assert_eq!(whole.len(), promised);
}

#[tokio::test]
async fn login_page_and_xml_replace_json() {
    let server =
        jellyfin_with_fault(FaultRule::new("/Items", Fault::HtmlLoginPage).on_request(1)).await;
    server
        .control()
        .add_fault(FaultRule::new("/Items", Fault::XmlInsteadOfJson).on_request(2));

    let login = get_items(&server).await;
    assert_eq!(login.status(), 200);
    assert!(content_type(&login).starts_with("text/html"));
    assert!(login.text().await.unwrap().starts_with("<!DOCTYPE html>"));

    let xml = get_items(&server).await;
    assert_eq!(content_type(&xml), "application/xml");
    let body = xml.text().await.unwrap();
    assert!(body.starts_with("<?xml"), "{body}");
    assert!(body.contains("TotalRecordCount=\"30\""), "{body}");

    let normal = get_items(&server).await;
    assert!(content_type(&normal).starts_with("application/json"));
}

#[tokio::test]
async fn empty_body_keeps_image_type() {
    let server = FakePlex::start(PlexConfig {
        token: "T".to_owned(),
        poster_size: (60, 90),
        libraries: vec![Library::generate(LibraryKind::Movies, 3, 0)],
        ..PlexConfig::default()
    })
    .await
    .unwrap();
    server
        .control()
        .add_fault(FaultRule::new("/photo/:/transcode", Fault::EmptyBody));
    let key = server.libraries()[0].items()[0].key;

    let response = client()
        .get(server.url(&format!(
            "/photo/:/transcode?width=30&url=/library/metadata/{key}/thumb/1"
        )))
        .header("X-Plex-Token", "T")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(content_type(&response), "image/jpeg");
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let server = jellyfin_with_fault(FaultRule::new("/nothing", Fault::TruncatedBody)).await;
    server.control().set_rate_limit(Some(
        RateLimit::new(3, Duration::from_secs(10))
            .on_path("/System/**")
            .retry_after(Duration::from_secs(3)),
    ));
    let http = client();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = http
            .get(server.url("/System/Info/Public"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "3");
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(
        get_items(&server).await.status(),
        200,
        "other paths are not limited"
    );

    server.control().set_rate_limit(None);
    let response = http
        .get(server.url("/System/Info/Public"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn delay_holds_the_answer() {
    let server = jellyfin_with_fault(
        FaultRule::new(
            "/System/Info/Public",
            Fault::Delay(Duration::from_millis(300)),
        )
        .once(),
    )
    .await;
    let started = std::time::Instant::now();
    let response = client()
        .get(server.url("/System/Info/Public"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}
