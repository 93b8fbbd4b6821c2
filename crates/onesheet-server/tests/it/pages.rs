use crate::support::TestApp;

#[tokio::test]
async fn root_redirects_to_screensaver() {
    let app = TestApp::with_posters(1).await;
    let response = app.get("/").await;
    assert_eq!(response.status, 307);
    assert_eq!(response.header("location"), "/screensaver");
}

#[tokio::test]
async fn screensaver_page_has_strict_headers() {
    let app = TestApp::with_posters(1).await;
    let response = app.get("/screensaver").await;
    assert_eq!(response.status, 200);
    assert!(response.header("content-type").starts_with("text/html"));
    let csp = response.header("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.header("x-content-type-options"), "nosniff");
    assert_eq!(response.header("referrer-policy"), "no-referrer");
    assert_eq!(response.header("x-frame-options"), "DENY");
    assert!(response.headers.contains_key("permissions-policy"));
    assert!(!response.header("x-request-id").is_empty());
}

#[tokio::test]
async fn unknown_route_is_json_404_with_request_id() {
    let app = TestApp::with_posters(1).await;
    let response = app.get("/nope").await;
    assert_eq!(response.status, 404);
    let body = response.json();
    assert_eq!(body["error"]["code"], "not-found");
    assert_eq!(
        body["error"]["request_id"].as_str().unwrap(),
        response.header("x-request-id")
    );
}

#[tokio::test]
async fn client_request_id_is_kept_only_when_safe() {
    use axum::body::Body;
    use axum::http::Request;

    let app = TestApp::with_posters(1).await;
    let kept = app
        .send(
            Request::get("/health")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(kept.header("x-request-id"), "abc-123");

    let replaced = app
        .send(
            Request::get("/health")
                .header("x-request-id", "evil\" injected=1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(replaced.header("x-request-id"), "evil\" injected=1");
}

#[tokio::test]
async fn whole_site_lives_under_base_path() {
    let app = TestApp::with_files(&[("a.jpg", crate::support::jpeg(8, 12))], "/posters").await;
    assert_eq!(app.get("/posters/health").await.status, 200);
    assert_eq!(app.get("/posters/screensaver").await.status, 200);
    assert_eq!(app.get("/screensaver").await.status, 404);
    assert_eq!(app.get("/health").await.status, 404);

    let page = app.get("/posters/api/v1/playlist").await.json();
    let poster = page["items"][0]["images"]["poster"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(poster.starts_with("/posters/img/"), "{poster}");
    assert_eq!(app.get(&poster).await.status, 200);

    let home = app.get("/posters").await;
    assert_eq!(home.status, 307);
    assert_eq!(home.header("location"), "/posters/screensaver");
}

#[tokio::test]
async fn layer_errors_use_the_json_error_body() {
    use axum::body::Body;
    use axum::http::Request;

    let app = TestApp::with_posters(1).await;
    let id = app.first_item_id();
    let cases = [
        (
            Request::post("/api/v1/playlist")
                .body(Body::empty())
                .unwrap(),
            405,
            "method-not-allowed",
        ),
        (
            Request::get(format!("/img/{id}/poster"))
                .header("range", "bytes=999999-")
                .body(Body::empty())
                .unwrap(),
            416,
            "range-not-satisfiable",
        ),
    ];
    for (request, status, code) in cases {
        let response = app.send(request).await;
        assert_eq!(response.status, status, "{code}");
        assert_eq!(
            response.header("content-type"),
            "application/json",
            "{code}"
        );
        let body = response.json();
        assert_eq!(body["error"]["code"], code);
        assert_eq!(
            body["error"]["request_id"].as_str().unwrap(),
            response.header("x-request-id")
        );
    }
}

#[tokio::test]
async fn long_invalid_values_are_not_echoed_whole() {
    let app = TestApp::with_posters(1).await;
    let response = app
        .get(&format!("/api/v1/playlist?mode={}", "m".repeat(20_000)))
        .await;
    assert_eq!(response.status, 400);
    assert!(response.body.len() < 1_000, "{} bytes", response.body.len());
    assert!(
        response.json()["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("(truncated)")
    );
}

#[tokio::test]
async fn base_path_with_trailing_slash_redirects() {
    let app = TestApp::with_files(&[("a.jpg", crate::support::jpeg(8, 12))], "/posters").await;
    let response = app.get("/posters/").await;
    assert_eq!(response.status, 307);
    assert_eq!(response.header("location"), "/posters/screensaver");
}

#[tokio::test]
async fn readiness_hides_source_error_text() {
    let app = TestApp::with_posters(1).await;
    let body = app.get("/health/ready").await.json();
    assert!(body["sources"][0].get("last_error").is_none());
}
