//! Hostile values in every path parameter of every admin and display route, sent by a
//! signed-in admin so that each one reaches its handler.

use super::*;

/// Values that try to leave a folder, end a string early or split a header.
const HOSTILE: [&str; 8] = [
    "..",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%5C..%5Cwindows%5Cwin.ini",
    "%00",
    "abc%00.jpg",
    "a%0D%0ASet-Cookie:%20planted=1",
    "%F0%9F%8E%AC%FF",
];

/// Builds `path` with every `{name}` replaced by `value`.
fn with_parameters(path: &str, value: &str) -> Option<String> {
    if !path.contains('{') {
        return None;
    }
    let mut built = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').unwrap() + start;
        built.push_str(&rest[..start]);
        built.push_str(value);
        rest = &rest[end + 1..];
    }
    built.push_str(rest);
    Some(built)
}

#[tokio::test]
async fn hostile_path_parameters_get_client_errors() {
    let app = accounts_app().await;
    let cookie = app.setup().await;
    let mut routes = onesheet_server::protected_routes();
    routes.extend(onesheet_server::display_routes());

    let mut tried = 0;
    for (path, method) in routes {
        for value in HOSTILE {
            let Some(uri) = with_parameters(path, value) else {
                continue;
            };
            let body = matches!(method.as_str(), "POST" | "PUT").then(|| json!({}));
            let response = app.send(method.as_str(), &uri, Some(&cookie), body).await;
            tried += 1;

            assert!(
                (400..500).contains(&response.status),
                "{method} {uri}: {}",
                response.status
            );
            let text = String::from_utf8_lossy(&response.body);
            assert!(!text.contains("root:"), "{method} {uri}: {text}");
            let cookies = response.headers.get_all("set-cookie");
            assert!(
                cookies
                    .iter()
                    .all(|cookie| !cookie.as_bytes().starts_with(b"planted")),
                "{method} {uri}"
            );
        }
    }
    assert!(tried >= 8 * HOSTILE.len(), "only {tried} requests sent");
}

#[tokio::test]
async fn asset_paths_stay_in_the_embedded_folder() {
    let app = accounts_app().await;

    for path in [
        "../Cargo.toml",
        "..%2F..%2FCargo.toml",
        "%2e%2e/%2e%2e/Cargo.toml",
        "css/../../Cargo.toml",
        ".hidden",
        "css//screensaver.css",
        "css%2F..%2F..%2F..%2Fetc%2Fpasswd",
    ] {
        let response = app
            .send("GET", &format!("/assets/{path}"), None, None)
            .await;
        assert_eq!(response.status, 404, "/assets/{path}");
        let text = String::from_utf8_lossy(&response.body);
        assert!(!text.contains("[package]"), "/assets/{path}: {text}");
    }
}
