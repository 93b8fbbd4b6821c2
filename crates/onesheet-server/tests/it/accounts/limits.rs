//! Bounded input on the account routes: oversized bodies and names with invisible controls.

use super::*;

#[tokio::test]
async fn oversized_chunked_body_gets_413() {
    let app = accounts_app().await;
    // Chunks without a Content-Length, so only reading the body finds it too large.
    let chunks = (0..20).map(|_| Ok::<_, std::io::Error>(vec![b' '; 8 * 1024]));
    let mut request = Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    let peer: SocketAddr = PEER.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));

    let response = app.app.send(request).await;

    assert_eq!(response.status, 413);
    assert_eq!(response.json()["error"]["code"], "body-too-large");
}

#[tokio::test]
async fn declared_oversized_body_gets_413_with_headers() {
    let app = accounts_app().await;
    let mut request = Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .header("content-length", "65537")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(vec![b' '; 65_537]))
        .unwrap();
    let peer: SocketAddr = PEER.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));

    let response = app.app.send(request).await;

    assert_eq!(response.status, 413);
    assert_eq!(response.json()["error"]["code"], "body-too-large");
    assert!(response.headers.contains_key("x-request-id"));
    assert!(response.headers.contains_key("content-security-policy"));
}

#[tokio::test]
async fn token_name_rejects_bidi_controls() {
    let app = accounts_app().await;
    let cookie = app.setup().await;

    let rejected = app
        .send(
            "POST",
            "/api/v1/admin/tokens",
            Some(&cookie),
            Some(json!({ "name": "dash\u{202E}draob", "scope": "read" })),
        )
        .await;

    assert_eq!(rejected.status, 400);
    let message = rejected.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("U+202E"), "{message}");
    let listed = app
        .send("GET", "/api/v1/admin/tokens", Some(&cookie), None)
        .await;
    assert_eq!(listed.json()["tokens"], json!([]), "a token was created");
}
