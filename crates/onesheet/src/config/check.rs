//! The report of `onesheet config check`: every key's effective value and where it came from.

use std::path::Path;

use super::secret::MASK;
use super::{LoadedConfig, Secret};

/// Shown for an optional key that has no value.
const UNSET: &str = "(unset)";

/// Renders the effective configuration, one line per leaf key in the form
/// `key = value    (origin)`, with secrets shown as `***`.
///
/// Strings and paths are quoted so that an empty value stays visible. Keys whose default is
/// derived from `data_dir` name the rule and the resulting path.
pub fn render_check(loaded: &LoadedConfig) -> String {
    let config = &loaded.config;
    let origin = |key: &str| loaded.origin(key).to_string();

    let media_dir_origin = match config.media_dir {
        Some(_) => origin("media_dir"),
        None => "default: <data_dir>/media".to_owned(),
    };
    let database_url_origin = match config.database_url {
        Some(_) => origin("database_url"),
        None => format!(
            "default: SQLite file {}",
            quote_path(&config.default_database_file())
        ),
    };

    let rows = [
        (
            "listen",
            quote(&config.listen.to_string()),
            origin("listen"),
        ),
        ("data_dir", quote_path(&config.data_dir), origin("data_dir")),
        (
            "media_dir",
            quote_path(&config.media_dir()),
            media_dir_origin,
        ),
        ("base_path", quote(&config.base_path), origin("base_path")),
        (
            "public_url",
            config.public_url.as_deref().map_or(UNSET.to_owned(), quote),
            origin("public_url"),
        ),
        (
            "force_https",
            config.force_https.to_string(),
            origin("force_https"),
        ),
        (
            "trusted_proxies",
            quote_list(&config.trusted_proxies),
            origin("trusted_proxies"),
        ),
        (
            "cors_origins",
            quote_list(&config.cors_origins),
            origin("cors_origins"),
        ),
        (
            "cookie_secure",
            quote(&config.cookie_secure.to_string()),
            origin("cookie_secure"),
        ),
        (
            "display_networks",
            quote_list(&config.display_networks),
            origin("display_networks"),
        ),
        (
            "public_displays",
            config.public_displays.to_string(),
            origin("public_displays"),
        ),
        (
            "device_auto_admit",
            quote_list(&config.device_auto_admit),
            origin("device_auto_admit"),
        ),
        (
            "device_auto_recover_frozen",
            config.device_auto_recover_frozen.to_string(),
            origin("device_auto_recover_frozen"),
        ),
        (
            "device_max_sockets",
            config.device_max_sockets.to_string(),
            origin("device_max_sockets"),
        ),
        (
            "device_max_sockets_per_address",
            config.device_max_sockets_per_address.to_string(),
            origin("device_max_sockets_per_address"),
        ),
        (
            "audit_retention_days",
            config.audit_retention_days.to_string(),
            origin("audit_retention_days"),
        ),
        (
            "database_url",
            mask(config.database_url.as_ref()),
            database_url_origin,
        ),
        (
            "secret_key",
            mask(config.secret_key.as_ref()),
            match config.secret_key {
                Some(_) => origin("secret_key"),
                None => "default: generated into <data_dir>/secret.key".to_owned(),
            },
        ),
        (
            "admin_token",
            mask(config.admin_token.as_ref()),
            match config.admin_token {
                Some(_) => origin("admin_token"),
                None => "default: no bootstrap token; signed-in admins still use the admin API"
                    .to_owned(),
            },
        ),
        (
            "tls.cert_file",
            optional_path(config.tls.cert_file.as_deref()),
            origin("tls.cert_file"),
        ),
        (
            "tls.key_file",
            optional_path(config.tls.key_file.as_deref()),
            origin("tls.key_file"),
        ),
        (
            "log.format",
            quote(&config.log.format.to_string()),
            origin("log.format"),
        ),
        ("log.level", quote(&config.log.level), origin("log.level")),
        (
            "cache.dir",
            quote_path(&config.cache_dir()),
            match config.cache.dir {
                Some(_) => origin("cache.dir"),
                None => "default: <data_dir>/cache".to_owned(),
            },
        ),
        (
            "cache.max_bytes",
            size(config.cache.max_bytes),
            origin("cache.max_bytes"),
        ),
        (
            "cache.min_free_bytes",
            size(config.cache.min_free_bytes),
            origin("cache.min_free_bytes"),
        ),
        (
            "cache.memory_bytes",
            size(config.cache.memory_bytes),
            origin("cache.memory_bytes"),
        ),
        (
            "images.max_pixels",
            config.images.max_pixels.to_string(),
            origin("images.max_pixels"),
        ),
        (
            "images.max_side",
            config.images.max_side.to_string(),
            origin("images.max_side"),
        ),
        (
            "images.max_input_bytes",
            size(config.images.max_input_bytes),
            origin("images.max_input_bytes"),
        ),
        (
            "images.workers",
            config.images.workers.to_string(),
            origin("images.workers"),
        ),
        (
            "images.queue",
            config.images.queue.to_string(),
            origin("images.queue"),
        ),
        (
            "images.deadline_seconds",
            config.images.deadline_seconds.to_string(),
            origin("images.deadline_seconds"),
        ),
    ];

    let assignments: Vec<String> = rows
        .iter()
        .map(|(key, value, _)| format!("{key} = {value}"))
        .collect();
    // `{:<width$}` pads by characters, so the width is counted in characters too.
    let width = assignments
        .iter()
        .map(|assignment| assignment.chars().count())
        .max()
        .unwrap_or(0);

    let mut out = String::new();
    for (assignment, (_, _, origin)) in assignments.iter().zip(&rows) {
        out.push_str(&format!("{assignment:<width$}    ({origin})\n"));
    }
    out
}

fn quote(value: &str) -> String {
    format!("{value:?}")
}

fn quote_list(entries: &[String]) -> String {
    let quoted: Vec<String> = entries.iter().map(|entry| quote(entry)).collect();
    format!("[{}]", quoted.join(", "))
}

fn quote_path(path: &Path) -> String {
    quote(&path.to_string_lossy())
}

/// Shows a size in binary units with the exact byte count, such as `"2.0 GiB" (2147483648 bytes)`.
fn size(value: bytesize::ByteSize) -> String {
    format!(
        "{} ({} bytes)",
        quote(&value.display().iec().to_string()),
        value.as_u64()
    )
}

fn optional_path(path: Option<&Path>) -> String {
    path.map_or(UNSET.to_owned(), quote_path)
}

fn mask(secret: Option<&Secret>) -> String {
    match secret {
        Some(_) => MASK.to_owned(),
        None => UNSET.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::config::{Config, Origin, keys};

    fn loaded(config: Config, origins: &[(&str, Origin)]) -> LoadedConfig {
        LoadedConfig {
            config,
            origins: origins
                .iter()
                .map(|(key, origin)| (key.to_string(), origin.clone()))
                .collect::<BTreeMap<_, _>>(),
            file: None,
        }
    }

    #[test]
    fn defaults_render() {
        let out = render_check(&loaded(Config::default(), &[]));
        let expected = [
            r#"listen = "0.0.0.0:8080"       (default)"#,
            r#"data_dir = "./data"           (default)"#,
            r#"media_dir = "./data/media"    (default: <data_dir>/media)"#,
            r#"base_path = ""                (default)"#,
            r#"public_url = (unset)          (default)"#,
            r#"force_https = false           (default)"#,
            r#"trusted_proxies = []          (default)"#,
            r#"cors_origins = []             (default)"#,
            r#"cookie_secure = "auto"        (default)"#,
            r#"display_networks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10"] (default)"#,
            r#"public_displays = false       (default)"#,
            r#"device_auto_admit = []        (default)"#,
            r#"device_auto_recover_frozen = false (default)"#,
            r#"device_max_sockets = 20000    (default)"#,
            r#"device_max_sockets_per_address = 256 (default)"#,
            r#"audit_retention_days = 365    (default)"#,
            r#"database_url = (unset)        (default: SQLite file "./data/onesheet.db")"#,
            r#"secret_key = (unset)          (default: generated into <data_dir>/secret.key)"#,
            r#"admin_token = (unset)         (default: no bootstrap token; signed-in admins still use the admin API)"#,
            r#"tls.cert_file = (unset)       (default)"#,
            r#"tls.key_file = (unset)        (default)"#,
            r#"log.format = "text"           (default)"#,
            r#"log.level = "info"            (default)"#,
        ];
        // Padding depends on the longest row, so runs of spaces are compared as one.
        let squeeze = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
        let lines: Vec<String> = out.lines().take(expected.len()).map(squeeze).collect();
        let expected: Vec<String> = expected.into_iter().map(squeeze).collect();
        assert_eq!(lines, expected);
        assert!(out.contains(r#"cache.dir = "./data/cache""#), "{out}");
        assert!(
            out.contains(r#"cache.max_bytes = "2.0 GiB" (2147483648 bytes)"#),
            "{out}"
        );
        assert!(out.contains("images.workers = 0"), "{out}");
    }

    #[test]
    fn origins_render() {
        let file = Origin::File(PathBuf::from("/etc/onesheet.toml"));
        let config = Config {
            media_dir: Some(PathBuf::from("/srv/media")),
            ..Config::default()
        };
        let out = render_check(&loaded(
            config,
            &[
                ("media_dir", file.clone()),
                ("listen", Origin::Env("ONESHEET_LISTEN".to_owned())),
                ("log.format", Origin::Flag("--log-format")),
            ],
        ));
        assert!(out.contains("(env ONESHEET_LISTEN)\n"), "{out}");
        assert!(out.contains("media_dir = \"/srv/media\""), "{out}");
        assert!(out.contains("(file /etc/onesheet.toml)\n"), "{out}");
        assert!(out.contains("(flag --log-format)\n"), "{out}");
    }

    #[test]
    fn secrets_masked() {
        let config = Config {
            database_url: Some(Secret::new("sqlite:///srv/hunter2.db")),
            secret_key: Some(Secret::new("correct-horse")),
            ..Config::default()
        };
        let loaded = loaded(config, &[]);
        let out = render_check(&loaded);
        assert!(!out.contains("hunter2"), "{out}");
        assert!(!out.contains("correct-horse"), "{out}");
        assert!(out.contains("database_url = ***"), "{out}");
        assert!(out.contains("secret_key = ***"), "{out}");

        let debug = format!("{loaded:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("correct-horse"), "{debug}");
    }

    #[test]
    fn lists_every_key_in_order() {
        let out = render_check(&loaded(Config::default(), &[]));
        let rendered: Vec<&str> = out
            .lines()
            .filter_map(|line| line.split(" = ").next())
            .collect();
        let known: Vec<&str> = keys::KEYS.iter().map(|key| key.name).collect();
        assert_eq!(rendered, known);
    }
}
