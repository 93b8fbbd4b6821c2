use crate::support::TestApp;

#[tokio::test]
async fn liveness_is_plain_ok() {
    let app = TestApp::with_posters(1).await;
    let response = app.get("/health").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["status"], "ok");
}

#[tokio::test]
async fn readiness_reports_store_catalog_and_sources() {
    let app = TestApp::with_posters(2).await;
    let response = app.get("/health/ready").await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store"]["ok"], true);
    assert_eq!(body["catalog"]["items"], 2);
    assert_eq!(body["sources"][0]["id"], "local");
    assert_eq!(body["sources"][0]["state"], "ok");
}

#[tokio::test]
async fn readiness_details_only_for_allowed_clients() {
    let app = TestApp::with_posters(2).await;

    let outside = app.get_from("/health/ready", "203.0.113.9:4000", &[]).await;
    let inside = app.get_from("/health/ready", "127.0.0.1:4000", &[]).await;

    assert_eq!(outside.status, 200);
    assert_eq!(outside.json(), serde_json::json!({"status": "ready"}));
    assert_eq!(inside.status, 200);
    assert_eq!(inside.json()["sources"][0]["id"], "local");
    assert!(inside.json()["version"].is_string());
}
