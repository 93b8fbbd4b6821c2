//! Shared helpers: an HTTP client that never uses a proxy, and header shortcuts.

use reqwest::{Client, Response};

pub fn client() -> Client {
    // reqwest is built without a default TLS provider for the whole workspace, and panics
    // without one even for plain HTTP.
    onesheet_upstream::install_crypto_provider();
    Client::builder().no_proxy().build().unwrap()
}

/// Builds the Jellyfin `Authorization` value with only the token, as Jellyfin 12 requires.
pub fn media_browser(key: &str) -> String {
    format!("MediaBrowser Token=\"{key}\"")
}

pub async fn json(response: Response) -> serde_json::Value {
    assert_eq!(
        response.status(),
        200,
        "unexpected status for {}",
        response.url()
    );
    response.json().await.unwrap()
}

pub fn content_type(response: &Response) -> String {
    response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
