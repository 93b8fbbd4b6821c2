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
