//! Removal of credentials from log lines before they are written.
//!
//! [`redact`] replaces secret values with `[redacted]` and keeps everything else, so a line
//! still shows which request failed. It covers what this server and the media servers it talks
//! to put in URLs, headers and JSON bodies:
//!
//! - query and `key=value` parameters named `api_key`, `apikey`, `token`, `access_token`,
//!   `x-plex-token`, `x-emby-token`, `password`, `secret` or `setup_token` (case ignored),
//!   including Emby's `MediaBrowser … Token="…"`;
//! - the rest of the line after an `Authorization`, `Proxy-Authorization`, `Cookie`,
//!   `Set-Cookie`, `X-Emby-Authorization`, `X-Emby-Token`, `X-Plex-Token` or
//!   `X-MediaBrowser-Token` header name and its colon;
//! - the token after `Bearer`, anywhere;
//! - JSON string values (also when escaped inside another string, or as a Rust `Debug` field)
//!   of the keys `password`, `token`, `api_key`, `apikey`, `access_token`, `setup_token`,
//!   `secret`, `totp` and `recovery_code`, and of the header names above;
//! - the password in a URL's user information (`https://user:password@host`).
//!
//! The rules err towards removing too much: a header name followed by a colon in prose loses
//! the rest of its line.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Text that replaces each secret value.
pub const REDACTED: &str = "[redacted]";

/// Header names whose values are credentials, as alternatives of a case-insensitive regex.
/// Longer names come first, so that `set-cookie` wins over `cookie` at the same position.
const SECRET_HEADERS: &str = "proxy-authorization|x-emby-authorization|authorization|set-cookie|\
                              cookie|x-emby-token|x-plex-token|x-mediabrowser-token";

/// Parameter names whose values are credentials in URLs and `key=value` text.
const SECRET_PARAMETERS: &str =
    "api_key|apikey|access_token|x-plex-token|x-emby-token|setup_token|password|secret|token";

/// JSON keys whose string values are credentials.
const SECRET_JSON_KEYS: &str =
    "password|token|api_key|apikey|access_token|setup_token|secret|totp|recovery_code";

/// Substrings that every rule needs, checked first so most lines skip the rules entirely.
const TRIGGER: &str =
    r"(?i)token|api_?key|password|secret|authorization|cookie|bearer|totp|recovery_code|://";

/// A name boundary: the start of the text or a character that cannot be part of a name.
/// The regex crate has no look-behind, so rules capture this character in `pre` and keep it.
const BOUNDARY: &str = r"(?:^|[^A-Za-z0-9_\-])";

/// Replaces credential values in `text` with `[redacted]`. Returns the input borrowed when
/// there is nothing to replace, which is the common case and allocates nothing.
pub fn redact(text: &str) -> Cow<'_, str> {
    let Some(rules) = RULES.as_ref() else {
        // A pattern failed to compile, which the tests rule out. Dropping the whole line is
        // the only safe result.
        return Cow::Borrowed(REDACTED);
    };
    if !rules.trigger.is_match(text) {
        return Cow::Borrowed(text);
    }

    let mut current: Cow<'_, str> = Cow::Borrowed(text);
    for rule in &rules.rules {
        let replaced = match rule.replace_all(&current, replace_value) {
            Cow::Owned(replaced) => Some(replaced),
            Cow::Borrowed(_) => None,
        };
        if let Some(replaced) = replaced {
            current = Cow::Owned(replaced);
        }
    }
    current
}

struct Rules {
    trigger: Regex,
    /// Each rule has the groups `pre` (kept), `value` (replaced) and optionally `post` (kept).
    rules: Vec<Regex>,
}

static RULES: LazyLock<Option<Rules>> = LazyLock::new(build_rules);

fn build_rules() -> Option<Rules> {
    let quoted = r#""(?:[^"\\]|\\.)*""#;
    let escaped_quoted = r#"\\"(?:[^"\\]|\\[^"])*\\""#;

    let patterns = [
        // A header name and its colon, then the rest of the line.
        format!(r"(?im)(?P<pre>{BOUNDARY}(?:{SECRET_HEADERS})[ \t]*:[ \t]*)(?P<value>[^\r\n]+)"),
        // A JSON or `Debug` key, quoted, escaped-quoted or bare, with a string value.
        format!(
            r#"(?i)(?P<pre>{BOUNDARY}\\?"?(?:{SECRET_JSON_KEYS}|{SECRET_HEADERS})\\?"?\s*:\s*)(?P<value>{quoted}|{escaped_quoted})"#
        ),
        // `Bearer <token>`, with the RFC 6750 token characters.
        r"(?i)(?P<pre>\bbearer\s+)(?P<value>[A-Za-z0-9\-._~+/]+=*)".to_owned(),
        // `name=value` in a query string, logfmt or a MediaBrowser header.
        format!(
            r#"(?i)(?P<pre>{BOUNDARY}(?:{SECRET_PARAMETERS})\s*=\s*)(?P<value>{quoted}|[^\s&#"']+)"#
        ),
        // The password in `scheme://user:password@host`.
        r"(?P<pre>[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)(?P<value>[^/\s@]+)(?P<post>@)".to_owned(),
    ];

    let mut rules = Vec::with_capacity(patterns.len());
    for pattern in &patterns {
        rules.push(Regex::new(pattern).ok()?);
    }
    Some(Rules {
        trigger: Regex::new(TRIGGER).ok()?,
        rules,
    })
}

/// Builds the replacement for one match: `pre`, then `[redacted]` in the value's own quoting,
/// then `post`.
fn replace_value(captures: &Captures<'_>) -> String {
    let pre = captures.name("pre").map_or("", |found| found.as_str());
    let value = captures.name("value").map_or("", |found| found.as_str());
    let post = captures.name("post").map_or("", |found| found.as_str());

    let replacement = if value.starts_with("\\\"") {
        format!("\\\"{REDACTED}\\\"")
    } else if value.starts_with('"') {
        format!("\"{REDACTED}\"")
    } else {
        REDACTED.to_owned()
    };
    format!("{pre}{replacement}{post}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Lines with a secret and their redacted form.
    const CHANGED: &[(&str, &str)] = &[
        // Query parameters.
        (
            "GET /Items?api_key=abc123&Limit=50",
            "GET /Items?api_key=[redacted]&Limit=50",
        ),
        (
            "GET /library/sections?X-Plex-Token=zQ9xv7Kp2m",
            "GET /library/sections?X-Plex-Token=[redacted]",
        ),
        (
            "GET /emby/Items?ApiKey=k1&x=1",
            "GET /emby/Items?ApiKey=[redacted]&x=1",
        ),
        (
            "https://h/cb?access_token=a.b.c#top",
            "https://h/cb?access_token=[redacted]#top",
        ),
        (
            "/setup?setup_token=s3cr3t done",
            "/setup?setup_token=[redacted] done",
        ),
        (
            "?password=hunter2&user=bob",
            "?password=[redacted]&user=bob",
        ),
        ("secret=xyz", "secret=[redacted]"),
        (
            "?token=first&token=second",
            "?token=[redacted]&token=[redacted]",
        ),
        // Logfmt as tracing prints fields.
        (
            r#"login failed user=alice password="two words""#,
            r#"login failed user=alice password="[redacted]""#,
        ),
        // Header lines.
        ("Authorization: Bearer abc.def", "Authorization: [redacted]"),
        (
            "authorization:Basic dXNlcjpwYXNz",
            "authorization:[redacted]",
        ),
        (
            "GET / HTTP/1.1\r\nHost: plex.local\r\nCookie: sid=abc; theme=dark\r\nAccept: */*",
            "GET / HTTP/1.1\r\nHost: plex.local\r\nCookie: [redacted]\r\nAccept: */*",
        ),
        (
            "Set-Cookie: onesheet_session=abc; HttpOnly; Secure",
            "Set-Cookie: [redacted]",
        ),
        ("X-Emby-Token: 0123abcd", "X-Emby-Token: [redacted]"),
        ("x-plex-token:   0123abcd  ", "x-plex-token:   [redacted]"),
        (
            "X-Emby-Authorization: MediaBrowser Client=\"Onesheet\", Token=\"abc\"",
            "X-Emby-Authorization: [redacted]",
        ),
        // Bearer anywhere.
        (
            "upstream replied 401 to Bearer eyJhbGciOi.eyJzdWIi.c2ln== at 12:00",
            "upstream replied 401 to Bearer [redacted] at 12:00",
        ),
        // MediaBrowser parameters outside a header line.
        (
            r#"MediaBrowser Client="Onesheet", Device="tv", Token="abc123""#,
            r#"MediaBrowser Client="Onesheet", Device="tv", Token="[redacted]""#,
        ),
        // JSON bodies.
        (
            r#"{"username":"alice","password":"hunter2"}"#,
            r#"{"username":"alice","password":"[redacted]"}"#,
        ),
        (
            r#"{"token": "abc", "totp": "123456", "recovery_code": "ab12c-3de45", "name": "tv"}"#,
            r#"{"token": "[redacted]", "totp": "[redacted]", "recovery_code": "[redacted]", "name": "tv"}"#,
        ),
        (
            r#"{"api_key":"k","Secret":"a\"b"}"#,
            r#"{"api_key":"[redacted]","Secret":"[redacted]"}"#,
        ),
        (
            r#"body="{\"password\":\"hunter2\",\"remember\":true}""#,
            r#"body="{\"password\":\"[redacted]\",\"remember\":true}""#,
        ),
        // A header map printed with `Debug`.
        (
            r#"headers={"authorization": "Bearer abc", "accept": "*/*"}"#,
            r#"headers={"authorization": "[redacted]", "accept": "*/*"}"#,
        ),
        // A struct printed with `Debug`.
        (
            r#"Login { username: "alice", password: "hunter2" }"#,
            r#"Login { username: "alice", password: "[redacted]" }"#,
        ),
        // User information in a URL.
        (
            "fetching https://admin:pa55word@plex.local:32400/library",
            "fetching https://admin:[redacted]@plex.local:32400/library",
        ),
    ];

    /// Lines that contain no secret and must come back borrowed and unchanged.
    const UNCHANGED: &[&str] = &[
        "tokenizer=fast",
        "tokens=5 used",
        "my_token=abc",
        r#"{"password_changed_at": 1700000000}"#,
        r#"{"code": 404, "message": "not found"}"#,
        r#"{"error": {"code": "not-found", "message": "item not found"}}"#,
        "status code 200 for /health",
        "GET /Items?Limit=20&SortBy=SortName",
        "passwords do not match",
        "authorization failed for user bob",
        "password=",
        "secretive=yes",
        "https://plex.local:32400/library",
        "",
    ];

    #[test]
    fn rules_compile() {
        assert!(RULES.is_some());
    }

    #[test]
    fn redacts_secret_values() {
        for (input, expected) in CHANGED {
            assert_eq!(redact(input), *expected, "input: {input}");
        }
    }

    #[test]
    fn leaves_lines_without_secrets() {
        for input in UNCHANGED {
            let output = redact(input);
            assert_eq!(output, *input);
            assert!(matches!(output, Cow::Borrowed(_)), "copied: {input}");
        }
    }

    #[test]
    fn lines_without_trigger_skip_rules() {
        let line = "GET /api/display/playlist 200 3ms";

        assert!(!RULES.as_ref().unwrap().trigger.is_match(line));
        assert!(matches!(redact(line), Cow::Borrowed(_)));
    }

    #[test]
    fn table_has_at_least_25_cases() {
        assert!(CHANGED.len() + UNCHANGED.len() >= 25);
    }

    #[test]
    fn redacted_output_is_stable() {
        // Redacting twice changes nothing more, so layered loggers cannot mangle a line.
        for (input, _) in CHANGED {
            let once = redact(input).into_owned();
            assert_eq!(redact(&once), once, "input: {input}");
        }
    }

    #[test]
    fn secret_never_survives() {
        let secret = "Zx9Qw8Ev7Rt6";
        let lines = [
            format!("?api_key={secret}"),
            format!("Authorization: Bearer {secret}"),
            format!("Cookie: onesheet_session={secret}"),
            format!(r#"{{"token":"{secret}"}}"#),
            format!("x-plex-token={secret}&a=1"),
            format!("https://u:{secret}@h/"),
        ];

        for line in &lines {
            let output = redact(line);
            assert!(!output.contains(secret), "{line} -> {output}");
        }
    }
}
