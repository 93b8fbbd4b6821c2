//! Checks and normalization of values that serde accepts as strings or paths but that must
//! follow a narrower form, such as `base_path` and `public_url`.

use std::collections::BTreeMap;

use tracing_subscriber::EnvFilter;

use super::keys;
use super::{Config, ConfigError, Origin};

/// Longest accepted `base_path`, after normalization. A prefix is a short name such as
/// `/posters`, and the cap keeps URLs that embed it short.
pub const BASE_PATH_MAX_CHARS: usize = 64;

/// Maximum audit retention accepted, in days: a hundred years, which is forever in practice.
const MAX_AUDIT_RETENTION_DAYS: u32 = 36_500;

/// Checks every value in `config` and normalizes `base_path` and `public_url` in place.
pub fn validate(
    config: &mut Config,
    origins: &BTreeMap<String, Origin>,
) -> Result<(), ConfigError> {
    let invalid = |key: &'static str, value: &str| ConfigError::InvalidValue {
        key: key.to_owned(),
        origin: origins.get(key).cloned().unwrap_or(Origin::Default),
        value: (!keys::is_secret(key)).then(|| format!("{value:?}")),
        expected: keys::find(key).map_or("", |found| found.expected),
    };

    if config.data_dir.as_os_str().is_empty() {
        return Err(invalid("data_dir", ""));
    }
    if let Some(dir) = &config.media_dir
        && dir.as_os_str().is_empty()
    {
        return Err(invalid("media_dir", ""));
    }

    config.base_path = normalize_base_path(&config.base_path)
        .ok_or_else(|| invalid("base_path", &config.base_path))?;

    if let Some(url) = &config.public_url {
        let normalized = normalize_public_url(url).ok_or_else(|| invalid("public_url", url))?;
        config.public_url = Some(normalized);
    }

    if let Some(bad) = config.trusted_proxies.iter().find(|entry| {
        onesheet_server::security::TrustedProxies::parse(std::slice::from_ref(entry)).is_err()
    }) {
        return Err(invalid("trusted_proxies", bad));
    }

    if let Some(bad) = config.display_networks.iter().find(|entry| {
        onesheet_server::security::DisplayAccess::parse(std::slice::from_ref(entry), false).is_err()
    }) {
        return Err(invalid("display_networks", bad));
    }

    if let Some(bad) = config.device_auto_admit.iter().find(|entry| {
        onesheet_server::devices::parse_networks(std::slice::from_ref(entry)).is_err()
    }) {
        return Err(invalid("device_auto_admit", bad));
    }

    if config.device_max_sockets == 0 {
        return Err(invalid("device_max_sockets", "0"));
    }
    if config.device_max_sockets_per_address == 0 {
        return Err(invalid("device_max_sockets_per_address", "0"));
    }

    if config.audit_retention_days > MAX_AUDIT_RETENTION_DAYS {
        return Err(invalid(
            "audit_retention_days",
            &config.audit_retention_days.to_string(),
        ));
    }

    for origin in &mut config.cors_origins {
        let normalized = normalize_origin(origin).ok_or_else(|| invalid("cors_origins", origin))?;
        *origin = normalized;
    }

    // PostgreSQL URLs become valid when the store supports PostgreSQL. Until then another
    // scheme would fail later with a less helpful message from the database driver.
    if let Some(url) = &config.database_url
        && !url.expose().starts_with("sqlite:")
    {
        return Err(invalid("database_url", ""));
    }

    // The key is parsed here as well as at start-up, so `config check` reports a bad key.
    if let Some(key) = &config.secret_key
        && onesheet_store::SecretKey::parse(key.expose(), "secret_key").is_err()
    {
        return Err(invalid("secret_key", ""));
    }

    // A short token can be guessed over the network; 24 characters of base64 are 144 bits.
    if let Some(token) = &config.admin_token
        && token.expose().trim().chars().count() < 24
    {
        return Err(invalid("admin_token", ""));
    }

    // An empty directive parses, but it turns logging off, which is never what was meant.
    let level = config.log.level.as_str();
    if level.trim().is_empty()
        || EnvFilter::builder().parse(level).is_err()
        || !level.split(',').all(is_level_directive)
    {
        return Err(invalid("log.level", level));
    }

    validate_images(config, &invalid)?;
    super::tls::validate(config, origins)?;

    Ok(())
}

/// Checks the `[cache]` and `[images]` numbers against their ranges.
fn validate_images(
    config: &Config,
    invalid: &dyn Fn(&'static str, &str) -> ConfigError,
) -> Result<(), ConfigError> {
    use super::images::{
        DEADLINE_RANGE, MAX_INPUT_BYTES_RANGE, MAX_PIXELS_RANGE, MAX_SIDE_RANGE,
        MEMORY_BYTES_RANGE, QUEUE_RANGE, WORKERS_RANGE,
    };

    if let Some(dir) = &config.cache.dir
        && dir.as_os_str().is_empty()
    {
        return Err(invalid("cache.dir", ""));
    }

    let images = &config.images;
    let checks = [
        (
            "cache.memory_bytes",
            config.cache.memory_bytes.as_u64(),
            MEMORY_BYTES_RANGE,
        ),
        ("images.max_pixels", images.max_pixels, MAX_PIXELS_RANGE),
        ("images.max_side", images.max_side, MAX_SIDE_RANGE),
        (
            "images.max_input_bytes",
            images.max_input_bytes.as_u64(),
            MAX_INPUT_BYTES_RANGE,
        ),
        ("images.workers", images.workers, WORKERS_RANGE),
        ("images.queue", images.queue, QUEUE_RANGE),
        (
            "images.deadline_seconds",
            images.deadline_seconds,
            DEADLINE_RANGE,
        ),
    ];
    for (key, value, (low, high)) in checks {
        if !(low..=high).contains(&value) {
            return Err(invalid(key, &value.to_string()));
        }
    }
    Ok(())
}

/// Normalizes a site prefix to a leading slash and no trailing slash, with `""` for the root,
/// or returns `None` if it is not a plain URL path.
///
/// Only the unreserved characters of RFC 3986 and `/` are accepted. Percent-encoding is
/// rejected, so `/%2e%2e` cannot smuggle in a `..` that a proxy would decode, and `..` and `//`
/// are rejected outright because proxies and browsers collapse them in different ways.
/// Level names `EnvFilter` accepts on their own. A bare word outside this list would be read
/// as a module name, which silently turns all logging off, so such words are rejected.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// True for a bare level (`info`) or a `target=level` directive (`onesheet=debug`).
fn is_level_directive(directive: &str) -> bool {
    let directive = directive.trim();
    directive.contains('=') || LEVELS.contains(&directive.to_ascii_lowercase().as_str())
}

pub fn normalize_base_path(raw: &str) -> Option<String> {
    if raw.is_empty() || raw == "/" {
        return Some(String::new());
    }
    if raw.contains("//") || raw.contains("..") {
        return None;
    }

    let trimmed = raw.strip_suffix('/').unwrap_or(raw);
    let path = if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    };

    let unreserved =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '/');
    // A "." segment is harmless to us but browsers resolve it away, so links would not match.
    let dot_segment = path.split('/').any(|segment| segment == ".");
    if !path.chars().all(unreserved) || dot_segment || path.chars().count() > BASE_PATH_MAX_CHARS {
        return None;
    }
    Some(path)
}

/// Checks that a public URL is an absolute http(s) URL with a host and returns it in the `url`
/// crate's normalized form without a trailing slash, or `None` if it is not.
///
/// User info is rejected because the URL ends up in pages that screens load, and a query or
/// fragment because paths are appended to it.
/// Normalizes an origin to `scheme://host[:port]`, the form browsers send in `Origin`. Paths,
/// queries, user names and schemes other than http and https are rejected.
fn normalize_origin(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.path() == "/";
    if !plain {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

fn normalize_public_url(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    let acceptable = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|host| !host.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if !acceptable {
        return None;
    }
    Some(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn base_path_accepted_forms() {
        let cases = [
            ("", ""),
            ("/", ""),
            ("posters", "/posters"),
            ("/posters/", "/posters"),
            ("/posters", "/posters"),
            ("/a/b", "/a/b"),
            ("/a-b_c.d~e/F9", "/a-b_c.d~e/F9"),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                normalize_base_path(raw).as_deref(),
                Some(expected),
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn base_path_rejected_forms() {
        let too_long = format!("/{}", "a".repeat(BASE_PATH_MAX_CHARS));
        let cases = [
            "/../x",
            "..",
            "a//b",
            "//",
            "/pos ters",
            "/%2e%2e",
            "/a/./b",
            "/a?b",
            "/a#b",
            "/ä",
            "\\a",
            &too_long,
        ];
        for raw in cases {
            assert_eq!(normalize_base_path(raw), None, "input {raw:?}");
        }
    }

    #[test]
    fn base_path_max_length_accepted() {
        let longest = format!("/{}", "a".repeat(BASE_PATH_MAX_CHARS - 1));
        assert_eq!(normalize_base_path(&longest), Some(longest.clone()));
    }

    #[test]
    fn origin_forms() {
        assert_eq!(
            normalize_origin("HTTPS://Dash.Example:8443/").as_deref(),
            Some("https://dash.example:8443")
        );
        assert_eq!(
            normalize_origin("https://dash.example:443").as_deref(),
            Some("https://dash.example")
        );
        for bad in [
            "dash.example",
            "https://dash.example/app",
            "ftp://x",
            "https://u@x",
            "*",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn public_url_forms() {
        assert_eq!(
            normalize_public_url("https://posters.example.com/").as_deref(),
            Some("https://posters.example.com")
        );
        assert_eq!(
            normalize_public_url("http://10.0.0.5:8080/posters/").as_deref(),
            Some("http://10.0.0.5:8080/posters")
        );
        assert_eq!(
            normalize_public_url("HTTPS://Posters.Example.COM").as_deref(),
            Some("https://posters.example.com")
        );
        for raw in [
            "posters.example.com",
            "ftp://example.com",
            "https://user:pw@example.com",
            "https://example.com/?a=1",
            "https://example.com/#top",
            "file:///etc/passwd",
            "",
        ] {
            assert_eq!(normalize_public_url(raw), None, "input {raw:?}");
        }
    }

    #[test]
    fn validate_names_key_and_origin() {
        let mut config = Config {
            base_path: "/a//b".to_owned(),
            ..Config::default()
        };
        let origins = BTreeMap::from([(
            "base_path".to_owned(),
            Origin::Env("ONESHEET_BASE_PATH".to_owned()),
        )]);
        let message = validate(&mut config, &origins).unwrap_err().to_string();
        assert!(
            message.starts_with("invalid value for base_path from ONESHEET_BASE_PATH: \"/a//b\": expected a URL path"),
            "{message}"
        );
    }

    #[test]
    fn validate_hides_secret_values() {
        let mut config = Config {
            database_url: Some(Secret::new("postgres://user:hunter2@db/onesheet")),
            ..Config::default()
        };
        let message = validate(&mut config, &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("expected a SQLite URL"), "{message}");
    }

    #[test]
    fn validate_rejects_bad_log_level() {
        for level in ["", "  ", "info,=x=y", "warning", "verbose", "info,debugg"] {
            let mut config = Config::default();
            config.log.level = level.to_owned();
            let result = validate(&mut config, &BTreeMap::new());
            assert!(result.is_err(), "level {level:?}");
        }
    }

    #[test]
    fn validate_accepts_defaults() {
        let mut config = Config::default();
        validate(&mut config, &BTreeMap::new()).unwrap();
        assert_eq!(config, Config::default());
    }
}
