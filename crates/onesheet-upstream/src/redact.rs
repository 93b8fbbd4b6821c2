//! URLs with their secrets replaced, for errors, logs and the status page.
//!
//! Plex takes its token as the `X-Plex-Token` query parameter and Jellyfin and Emby accept
//! `api_key`, so a request URL often carries a credential. Every URL this crate shows anyone
//! goes through [`redact_url`] first.

use url::Url;

/// Replacement for a secret value.
pub(crate) const REDACTED: &str = "***";

/// Returns `url` as text with user credentials removed and the value of every query parameter
/// that looks like a secret replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    let mut redacted = url.clone();
    let _ = redacted.set_username("");
    let _ = redacted.set_password(None);

    if redacted.query().is_some() {
        let pairs: Vec<(String, String)> = redacted
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_secret_name(&name) {
                    REDACTED.to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        redacted.query_pairs_mut().clear().extend_pairs(pairs);
    }
    redacted.into()
}

/// Returns true for a query parameter name that carries a credential. The match ignores case
/// and punctuation, so `X-Plex-Token`, `api_key`, `apiKey` and `access_token` all count.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|character| character.to_ascii_lowercase())
        .collect();

    const EXACT: &[&str] = &[
        "apikey",
        "key",
        "auth",
        "authorization",
        "sig",
        "signature",
        "pass",
        "pw",
        "pwd",
    ];
    const PARTS: &[&str] = &[
        "token",
        "password",
        "passwd",
        "secret",
        "apikey",
        "credential",
        "session",
    ];

    EXACT.contains(&folded.as_str()) || PARTS.iter().any(|part| folded.contains(part))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn secrets_in_query_are_redacted() {
        let cases = [
            (
                "http://plex.local:32400/library?X-Plex-Token=abc123&type=1",
                "http://plex.local:32400/library?X-Plex-Token=***&type=1",
            ),
            (
                "https://jf.example.org/Items?api_key=abc&Limit=50",
                "https://jf.example.org/Items?api_key=***&Limit=50",
            ),
            (
                "https://example.org/a?apiKey=1&token=2&password=3&access_token=4",
                "https://example.org/a?apiKey=***&token=***&password=***&access_token=***",
            ),
            (
                "https://example.org/a?X-Emby-Token=1&client_secret=2&pw=3",
                "https://example.org/a?X-Emby-Token=***&client_secret=***&pw=***",
            ),
            (
                "https://example.org/a?sortKey=title&monkey=1",
                "https://example.org/a?sortKey=title&monkey=1",
            ),
            ("https://example.org/plain", "https://example.org/plain"),
        ];

        for (input, expected) in cases {
            assert_eq!(redact_url(&Url::parse(input).unwrap()), expected, "{input}");
        }
    }

    #[test]
    fn user_credentials_are_removed() {
        let url = Url::parse("https://admin:hunter2@example.org/a").unwrap();

        assert_eq!(redact_url(&url), "https://example.org/a");
    }
}
