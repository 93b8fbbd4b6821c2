use std::net::SocketAddr;

use tempfile::TempDir;

use super::*;
use crate::config::{LogFormat, render_check};

/// A temporary directory with an optional `onesheet.toml` in it.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn with_file(toml: &str) -> Self {
        let fixture = Self::new();
        std::fs::write(fixture.file(), toml).unwrap();
        fixture
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("onesheet.toml")
    }

    /// Loads with the fixture's file given explicitly, as `--config` would.
    fn load(&self, env: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
        load_with_default_file(Some(&self.file()), &self.missing(), vars(env))
    }

    /// Loads with no explicit file and the fixture's file as the default location.
    fn load_default(&self, env: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
        load_with_default_file(None, &self.file(), vars(env))
    }

    fn missing(&self) -> PathBuf {
        self.dir.path().join("missing.toml")
    }
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn defaults_without_file_or_env() {
    let fixture = Fixture::new();
    let loaded = fixture.load_default(&[]).unwrap();
    assert_eq!(loaded.config, Config::default());
    assert!(loaded.origins.is_empty());
    assert_eq!(loaded.file, None);
    assert_eq!(loaded.config.listen, addr("0.0.0.0:8080"));
    assert_eq!(loaded.config.media_dir(), PathBuf::from("./data/media"));
    assert_eq!(loaded.config.log.format, LogFormat::Text);
    assert_eq!(loaded.config.log.level, "info");
}

#[test]
fn default_file_read_when_present() {
    let fixture = Fixture::with_file("listen = \"127.0.0.1:9000\"\n");
    let loaded = fixture.load_default(&[]).unwrap();
    assert_eq!(loaded.config.listen, addr("127.0.0.1:9000"));
    assert_eq!(loaded.file, Some(fixture.file()));
}

#[test]
fn explicit_missing_file_is_error() {
    let fixture = Fixture::new();
    let error = fixture.load(&[]).unwrap_err();
    let expected = format!(
        "configuration file {} not found; check --config or ONESHEET_CONFIG",
        fixture.file().display()
    );
    assert_eq!(error.to_string(), expected);
}

#[test]
fn file_overrides_defaults() {
    let fixture = Fixture::with_file(
        "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/onesheet\"\n[log]\nformat = \"json\"\n",
    );
    let loaded = fixture.load(&[]).unwrap();
    assert_eq!(loaded.config.listen, addr("127.0.0.1:9000"));
    assert_eq!(
        loaded.config.media_dir(),
        PathBuf::from("/srv/onesheet/media")
    );
    assert_eq!(loaded.config.log.format, LogFormat::Json);
    assert_eq!(loaded.config.log.level, "info");
    assert_eq!(loaded.origin("listen"), &Origin::File(fixture.file()));
    assert_eq!(loaded.origin("log.format"), &Origin::File(fixture.file()));
    assert_eq!(loaded.origin("log.level"), &Origin::Default);
}

#[test]
fn env_overrides_file() {
    let fixture = Fixture::with_file("listen = \"127.0.0.1:9000\"\nbase_path = \"/a\"\n");
    let loaded = fixture.load(&[("ONESHEET_LISTEN", "[::1]:7000")]).unwrap();
    assert_eq!(loaded.config.listen, addr("[::1]:7000"));
    assert_eq!(loaded.config.base_path, "/a");
    assert_eq!(
        loaded.origin("listen"),
        &Origin::Env("ONESHEET_LISTEN".to_owned())
    );
    assert_eq!(loaded.origin("base_path"), &Origin::File(fixture.file()));
}

#[test]
fn nested_env_key_merges_with_file_table() {
    let fixture = Fixture::with_file("[log]\nlevel = \"debug\"\n");
    let loaded = fixture.load(&[("ONESHEET_LOG__FORMAT", "json")]).unwrap();
    assert_eq!(loaded.config.log.format, LogFormat::Json);
    assert_eq!(loaded.config.log.level, "debug");
    assert_eq!(
        loaded.origin("log.format"),
        &Origin::Env("ONESHEET_LOG__FORMAT".to_owned())
    );
}

#[test]
fn env_values_stay_strings() {
    let fixture = Fixture::new();
    let loaded = fixture
        .load_default(&[
            (
                "ONESHEET_SECRET_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            ),
            ("ONESHEET_BASE_PATH", "2026"),
        ])
        .unwrap();
    assert_eq!(
        loaded.config.secret_key.unwrap().expose(),
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    );
    assert_eq!(loaded.config.base_path, "/2026");
}

#[test]
fn config_path_var_not_a_key() {
    let fixture = Fixture::new();
    let loaded = fixture
        .load_default(&[("ONESHEET_CONFIG", "/somewhere/else.toml")])
        .unwrap();
    assert_eq!(loaded.config, Config::default());
}

#[test]
fn secret_from_file_variable() {
    let fixture = Fixture::new();
    let key_file = fixture.dir.path().join("secret_key");
    std::fs::write(
        &key_file,
        "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2\n",
    )
    .unwrap();
    let loaded = fixture
        .load_default(&[("ONESHEET_SECRET_KEY_FILE", key_file.to_str().unwrap())])
        .unwrap();
    assert_eq!(
        loaded.config.secret_key.as_ref().unwrap().expose(),
        "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2"
    );
    assert_eq!(
        loaded.origin("secret_key"),
        &Origin::Env("ONESHEET_SECRET_KEY_FILE".to_owned())
    );
}

#[test]
fn secret_var_and_file_variable_conflict() {
    let fixture = Fixture::new();
    let error = fixture
        .load_default(&[
            ("ONESHEET_DATABASE_URL", "sqlite:///a.db"),
            ("ONESHEET_DATABASE_URL_FILE", "/run/secrets/db"),
        ])
        .unwrap_err();
    assert!(
        matches!(error, ConfigError::SecretSetTwice { .. }),
        "{error}"
    );
}

#[test]
fn unknown_file_key_suggests() {
    let fixture = Fixture::with_file("lisen = \"0.0.0.0:80\"\n");
    let error = fixture.load(&[]).unwrap_err();
    let expected = format!(
        "unknown key \"lisen\" in {}: did you mean \"listen\"?",
        fixture.file().display()
    );
    assert_eq!(error.to_string(), expected);
}

#[test]
fn unknown_nested_file_key_suggests() {
    let fixture = Fixture::with_file("[log]\nformt = \"json\"\n");
    let error = fixture.load(&[]).unwrap_err();
    let expected = format!(
        "unknown key \"log.formt\" in {}: did you mean \"log.format\"?",
        fixture.file().display()
    );
    assert_eq!(error.to_string(), expected);
}

#[test]
fn unknown_env_key_suggests() {
    let fixture = Fixture::new();
    let error = fixture
        .load_default(&[("ONESHEET_LOG__FORMT", "json")])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown key \"log.formt\" from ONESHEET_LOG__FORMT: did you mean ONESHEET_LOG__FORMAT?"
    );
}

#[test]
fn toml_syntax_error_has_position() {
    let fixture = Fixture::with_file("listen = \"0.0.0.0:80\"\ndata_dir = = \"x\"\n");
    let error = fixture.load(&[]).unwrap_err();
    let ConfigError::Syntax {
        path,
        position,
        message,
    } = &error
    else {
        panic!("expected a syntax error, got {error}");
    };
    assert_eq!(path, &fixture.file());
    assert_eq!(
        position,
        &Some(TextPosition {
            line: 2,
            column: 12
        })
    );
    assert!(!message.is_empty());
    let text = error.to_string();
    let prefix = format!(
        "invalid TOML in {} at line 2, column 12: ",
        fixture.file().display()
    );
    assert!(text.starts_with(&prefix), "{text}");
}

#[test]
fn toml_duplicate_key_is_syntax_error() {
    let fixture = Fixture::with_file("listen = \"0.0.0.0:80\"\nlisten = \"0.0.0.0:81\"\n");
    let error = fixture.load(&[]).unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::Syntax {
                position: Some(_),
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn invalid_env_value_names_source() {
    let fixture = Fixture::new();
    let error = fixture
        .load_default(&[("ONESHEET_LISTEN", "8080")])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid value for listen from ONESHEET_LISTEN: \"8080\": expected an IP address and port such as 0.0.0.0:8080 (host names such as localhost are not accepted)"
    );
}

#[test]
fn invalid_file_value_names_source() {
    let fixture = Fixture::with_file("[log]\nformat = \"xml\"\n");
    let error = fixture.load(&[]).unwrap_err();
    let expected = format!(
        "invalid value for log.format in {}: \"xml\": expected text or json",
        fixture.file().display()
    );
    assert_eq!(error.to_string(), expected);
}

#[test]
fn invalid_file_type_names_source() {
    let fixture = Fixture::with_file("listen = 8080\n");
    let error = fixture.load(&[]).unwrap_err();
    let expected = format!(
        "invalid value for listen in {}: 8080: expected an IP address and port such as 0.0.0.0:8080 (host names such as localhost are not accepted)",
        fixture.file().display()
    );
    assert_eq!(error.to_string(), expected);
}

#[test]
fn table_given_as_value_names_table() {
    let fixture = Fixture::with_file("log = \"json\"\n");
    let error = fixture.load(&[]).unwrap_err();
    let expected = format!(
        "invalid value for log in {}: \"json\": expected a table with the keys format and level",
        fixture.file().display()
    );
    assert_eq!(error.to_string(), expected);
}

#[test]
fn invalid_secret_value_hidden() {
    let fixture = Fixture::with_file("database_url = 31337\n");
    let error = fixture.load(&[]).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, ConfigError::InvalidValue { value: None, .. }),
        "{text}"
    );
    assert!(!text.contains("31337"), "{text}");
}

#[test]
fn base_path_normalized_on_load() {
    let fixture = Fixture::new();
    let loaded = fixture
        .load_default(&[("ONESHEET_BASE_PATH", "posters/")])
        .unwrap();
    assert_eq!(loaded.config.base_path, "/posters");
}

#[test]
fn log_format_flag_overrides_env() {
    let fixture = Fixture::new();
    let mut loaded = fixture
        .load_default(&[("ONESHEET_LOG__FORMAT", "json")])
        .unwrap();
    loaded.override_log_format(LogFormat::Text);
    assert_eq!(loaded.config.log.format, LogFormat::Text);
    assert_eq!(loaded.origin("log.format"), &Origin::Flag("--log-format"));
}

#[test]
fn secrets_never_rendered() {
    let fixture = Fixture::with_file("database_url = \"sqlite:///srv/pa55word.db\"\n");
    let loaded = fixture
        .load(&[(
            "ONESHEET_SECRET_KEY",
            "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2",
        )])
        .unwrap();
    let rendered = render_check(&loaded);
    let debug = format!("{loaded:?}");
    for text in [&rendered, &debug] {
        assert!(!text.contains("pa55word"), "{text}");
        assert!(
            !text.contains("5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2"),
            "{text}"
        );
    }
    assert!(rendered.contains("(env ONESHEET_SECRET_KEY)"), "{rendered}");
}

/// Serde's field list and [`keys::KEYS`] must name the same leaves, or a new field would be
/// rejected as unknown (or an old name accepted) by the checks that run before serde.
#[test]
fn key_list_matches_struct() {
    let config = Config {
        media_dir: Some(PathBuf::from("m")),
        public_url: Some("https://example.com".to_owned()),
        trusted_proxies: vec!["10.0.0.0/8".to_owned()],
        database_url: Some(crate::config::Secret::new("sqlite://x")),
        secret_key: Some(crate::config::Secret::new("k")),
        admin_token: Some(crate::config::Secret::new("t")),
        ..Config::default()
    };
    let value = serde_json::to_value(&config).unwrap();

    fn leaves(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        let serde_json::Value::Object(map) = value else {
            out.push(prefix.to_owned());
            return;
        };
        for (name, child) in map {
            let key = match prefix {
                "" => name.clone(),
                _ => format!("{prefix}.{name}"),
            };
            if keys::is_table(&key) {
                leaves(child, &key, out);
            } else {
                out.push(key);
            }
        }
    }
    let mut from_struct = Vec::new();
    leaves(&value, "", &mut from_struct);
    from_struct.sort();

    let mut listed: Vec<String> = keys::KEYS.iter().map(|key| key.name.to_owned()).collect();
    listed.sort();
    assert_eq!(from_struct, listed);
}

#[test]
fn bad_file_value_beats_env_override() {
    let fixture = Fixture::with_file("listen = 8080\n");
    let error = fixture
        .load(&[("ONESHEET_LISTEN", "127.0.0.1:9000")])
        .unwrap_err()
        .to_string();
    assert!(error.contains("listen"), "{error}");
    assert!(error.contains("onesheet.toml"), "{error}");
}

#[test]
fn image_sizes_accept_units_and_env_numbers() {
    let fixture = Fixture::with_file(
        "[cache]\nmax_bytes = \"512 MiB\"\nmemory_bytes = 1048576\n[images]\nmax_pixels = 5000000\n",
    );
    let loaded = fixture
        .load(&[
            ("ONESHEET_IMAGES__WORKERS", "3"),
            ("ONESHEET_IMAGES__MAX_INPUT_BYTES", "8MiB"),
        ])
        .unwrap();
    let config = &loaded.config;
    assert_eq!(config.cache.max_bytes.as_u64(), 512 * 1024 * 1024);
    assert_eq!(config.cache.memory_bytes.as_u64(), 1024 * 1024);
    assert_eq!(config.images.max_pixels, 5_000_000);
    assert_eq!(config.images.workers, 3);
    assert_eq!(config.images.max_input_bytes.as_u64(), 8 * 1024 * 1024);
    assert_eq!(
        loaded.origin("images.workers"),
        &Origin::Env("ONESHEET_IMAGES__WORKERS".to_owned())
    );
}

#[test]
fn image_limits_out_of_range_name_the_key() {
    let fixture = Fixture::new();
    for (var, value, key) in [
        ("ONESHEET_IMAGES__MAX_PIXELS", "0", "images.max_pixels"),
        (
            "ONESHEET_IMAGES__DEADLINE_SECONDS",
            "3600",
            "images.deadline_seconds",
        ),
        ("ONESHEET_IMAGES__WORKERS", "many", "images.workers"),
        ("ONESHEET_CACHE__MAX_BYTES", "lots", "cache.max_bytes"),
    ] {
        let error = fixture.load_default(&[(var, value)]).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(key), "{var}={value}: {message}");
        assert!(message.contains(var), "{var}={value}: {message}");
    }
}

#[test]
fn trusted_proxies_from_a_file_list_or_an_env_string() {
    let fixture = Fixture::with_file("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n");
    let loaded = fixture.load(&[]).unwrap();
    assert_eq!(loaded.config.trusted_proxies, ["10.0.0.0/8", "::1"]);

    let loaded = fixture
        .load(&[("ONESHEET_TRUSTED_PROXIES", "192.168.1.2, fd00::/8")])
        .unwrap();
    assert_eq!(loaded.config.trusted_proxies, ["192.168.1.2", "fd00::/8"]);
}

#[test]
fn bad_trusted_proxy_names_the_entry() {
    let fixture = Fixture::new();
    let error = fixture
        .load_default(&[("ONESHEET_TRUSTED_PROXIES", "10.0.0.0/8,proxy.lan")])
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(
            "invalid value for trusted_proxies from ONESHEET_TRUSTED_PROXIES: \"proxy.lan\""
        ),
        "{error}"
    );
}

#[test]
fn tls_files_and_force_https_from_the_environment() {
    let fixture = Fixture::with_file("public_url = \"https://posters.example.com/\"\n");
    let loaded = fixture
        .load(&[
            ("ONESHEET_TLS__CERT_FILE", "/etc/onesheet/fullchain.pem"),
            ("ONESHEET_TLS__KEY_FILE", "/etc/onesheet/privkey.pem"),
            ("ONESHEET_FORCE_HTTPS", "true"),
        ])
        .unwrap();
    let config = &loaded.config;
    assert_eq!(
        config.tls.files(),
        Some((
            Path::new("/etc/onesheet/fullchain.pem"),
            Path::new("/etc/onesheet/privkey.pem")
        ))
    );
    assert!(config.force_https);
    assert_eq!(
        loaded.origin("tls.key_file"),
        &Origin::Env("ONESHEET_TLS__KEY_FILE".to_owned())
    );

    let rendered = render_check(&loaded);
    assert!(
        rendered.contains("tls.cert_file = \"/etc/onesheet/fullchain.pem\""),
        "{rendered}"
    );
    assert!(
        rendered.contains("(env ONESHEET_TLS__CERT_FILE)"),
        "{rendered}"
    );
    assert!(rendered.contains("force_https = true"), "{rendered}");
}

#[test]
fn tls_table_in_a_file() {
    let fixture = Fixture::with_file(
        "[tls]\ncert_file = \"/etc/onesheet/fullchain.pem\"\nkey_file = \"/etc/onesheet/privkey.pem\"\n",
    );
    let loaded = fixture.load(&[]).unwrap();
    assert!(loaded.config.tls.files().is_some());
    assert_eq!(
        loaded.origin("tls.cert_file"),
        &Origin::File(fixture.file())
    );

    let typo = Fixture::with_file("[tls]\ncert = \"/etc/onesheet/fullchain.pem\"\n");
    let message = typo.load(&[]).unwrap_err().to_string();
    assert!(message.contains("unknown key \"tls.cert\""), "{message}");
}

#[test]
fn half_a_tls_pair_names_the_missing_key() {
    let fixture = Fixture::new();
    let message = fixture
        .load_default(&[("ONESHEET_TLS__CERT_FILE", "/etc/onesheet/fullchain.pem")])
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "tls.cert_file is set from ONESHEET_TLS__CERT_FILE but tls.key_file is not: set both to serve HTTPS, or neither"
    );
}

#[test]
fn force_https_without_https_public_url_is_rejected() {
    let fixture = Fixture::new();
    let message = fixture
        .load_default(&[
            ("ONESHEET_FORCE_HTTPS", "true"),
            ("ONESHEET_PUBLIC_URL", "http://posters.example.com"),
        ])
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("force_https is on from ONESHEET_FORCE_HTTPS but public_url is \"http://posters.example.com\""),
        "{message}"
    );
}

#[test]
fn display_access_from_the_environment() {
    let fixture = Fixture::with_file("");
    let loaded = fixture
        .load(&[
            ("ONESHEET_DISPLAY_NETWORKS", "192.168.1.0/24, 10.8.0.7"),
            ("ONESHEET_PUBLIC_DISPLAYS", "true"),
            ("ONESHEET_AUDIT_RETENTION_DAYS", "90"),
        ])
        .unwrap();
    let config = &loaded.config;

    assert_eq!(config.display_networks, ["192.168.1.0/24", "10.8.0.7"]);
    assert!(config.public_displays);
    assert_eq!(config.audit_retention_days, 90);
}

#[test]
fn invalid_display_network_names_key_and_value() {
    let fixture = Fixture::with_file("display_networks = [\"192.168.1.0/24\", \"lan\"]\n");

    let message = fixture.load(&[]).unwrap_err().to_string();

    assert!(message.contains("display_networks"), "{message}");
    assert!(message.contains("lan"), "{message}");
}

#[test]
fn audit_retention_over_a_century_is_rejected() {
    let fixture = Fixture::with_file("audit_retention_days = 40000\n");

    let message = fixture.load(&[]).unwrap_err().to_string();

    assert!(message.contains("audit_retention_days"), "{message}");
}

#[test]
fn device_socket_caps_reject_zero() {
    let fixture = Fixture::with_file("device_max_sockets = 5000\n");
    let loaded = fixture
        .load(&[("ONESHEET_DEVICE_MAX_SOCKETS_PER_ADDRESS", "64")])
        .unwrap();
    assert_eq!(loaded.config.device_max_sockets, 5000);
    assert_eq!(loaded.config.device_max_sockets_per_address, 64);

    let fixture = Fixture::with_file("device_max_sockets_per_address = 0\n");
    let message = fixture.load(&[]).unwrap_err().to_string();
    assert!(
        message.contains("device_max_sockets_per_address"),
        "{message}"
    );
}
