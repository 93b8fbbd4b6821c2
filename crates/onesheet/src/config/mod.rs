//! Bootstrap configuration of the `onesheet` binary: what the process needs before it opens the
//! database, such as the listen address, the data directory and the log format.
//!
//! Values come from the serde defaults below, then an optional TOML file, then `ONESHEET_*`
//! environment variables, then the `--log-format` flag, each layer overriding the one before.
//! [`load`] merges and validates them and records where each key's value came from, so that
//! errors and `onesheet config check` can name the file or variable to fix.

mod check;
mod env;
mod error;
mod images;
mod keys;
mod load;
mod secret;
mod tls;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use check::render_check;
pub use env::process_env;
pub use error::ConfigError;
pub use images::{CacheConfig, ImagesConfig};
pub use load::load;
pub use secret::Secret;
pub use tls::TlsConfig;

/// Name of the configuration file read from the working directory when no path is given.
pub const DEFAULT_FILE: &str = "onesheet.toml";

/// Name of the variable that contains the configuration file path. The command line reads it, and
/// the loader skips it so that it is not taken for a configuration key.
pub const CONFIG_PATH_VAR: &str = "ONESHEET_CONFIG";

/// The bootstrap configuration, after defaults, file, environment and validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port the HTTP server binds to.
    pub listen: SocketAddr,
    /// Directory for the database, the image cache and other state. A relative path is resolved
    /// against the working directory.
    pub data_dir: PathBuf,
    /// Directory of local media files, or `None` for `<data_dir>/media` (see [`Config::media_dir`]).
    pub media_dir: Option<PathBuf>,
    /// URL path prefix the whole site lives under, such as `/posters` behind a reverse proxy.
    /// After loading it has a leading slash and no trailing slash, and `""` means the root.
    pub base_path: String,
    /// External URL of the site as browsers reach it, without a trailing slash. With `None`,
    /// links are built from each request.
    pub public_url: Option<String>,
    /// Redirects requests that arrived over plain HTTP to `public_url`, which must then use
    /// https. A request from a trusted proxy counts as plain HTTP only when its
    /// `X-Forwarded-Proto` names a scheme other than https, and health probes are never
    /// redirected.
    pub force_https: bool,
    /// Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` headers are believed, as
    /// IP addresses or CIDR ranges. Empty: every client is the socket's peer. Accepts a TOML
    /// array or one string separated by commas, as an environment variable gives it.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub trusted_proxies: Vec<String>,
    /// Origins (`https://dashboard.example`) whose pages may read this server's responses
    /// across origins, without credentials. Empty: CORS stays off.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub cors_origins: Vec<String>,
    /// When the admin session cookie is marked `Secure`: `auto` when the request came over
    /// HTTPS (directly or through a trusted proxy), `always`, or `never`.
    pub cookie_secure: CookieSecure,
    /// Networks whose clients may load display pages, the display API and images without
    /// signing in, as IP addresses or CIDR ranges; loopback always may. Defaults to the private
    /// ranges of home and venue networks.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub display_networks: Vec<String>,
    /// Opens display pages, the display API and images to every client, for a server whose
    /// screens are on the internet. Off by default.
    pub public_displays: bool,
    /// Networks whose screens are admitted as devices without an admin's claim, as IP addresses
    /// or CIDR ranges. Empty (the default): every new screen shows a pairing code.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub device_auto_admit: Vec<String>,
    /// Sends a reload to a connected screen that has shown one item for three of its intervals.
    /// Off by default: such screens are only flagged in the device list.
    pub device_auto_recover_frozen: bool,
    /// Open device WebSockets at most, pairing screens included. Upgraded connections leave
    /// `max_connections`, so this keeps screens from using up the process's file descriptors.
    pub device_max_sockets: usize,
    /// Open device WebSockets at most from one client address (IPv6: one /64).
    pub device_max_sockets_per_address: usize,
    /// Days the audit log keeps an event; 0 keeps events forever.
    pub audit_retention_days: u32,
    /// Database connection URL, or `None` for the SQLite file `<data_dir>/onesheet.db`.
    pub database_url: Option<Secret>,
    /// Key for encrypting secrets that the database stores, such as upstream credentials: 32
    /// random bytes as 64 hex digits or base64. Unset: generated into `<data_dir>/secret.key`.
    pub secret_key: Option<Secret>,
    /// Bearer token that unlocks the admin API until admin accounts exist. Unset: the admin API
    /// is off.
    pub admin_token: Option<Secret>,
    /// Built-in HTTPS from a certificate and a key file.
    pub tls: TlsConfig,
    /// Log output settings.
    pub log: LogConfig,
    /// Derived-image caches.
    pub cache: CacheConfig,
    /// Decoding limits and work bounds for derived images.
    pub images: ImagesConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8080)),
            data_dir: PathBuf::from("./data"),
            media_dir: None,
            base_path: String::new(),
            public_url: None,
            force_https: false,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            cookie_secure: CookieSecure::Auto,
            display_networks: onesheet_server::security::DEFAULT_DISPLAY_NETWORKS
                .iter()
                .map(|network| (*network).to_owned())
                .collect(),
            public_displays: false,
            device_auto_admit: Vec::new(),
            device_auto_recover_frozen: false,
            device_max_sockets: onesheet_server::devices::DEFAULT_MAX_SOCKETS,
            device_max_sockets_per_address:
                onesheet_server::devices::DEFAULT_MAX_SOCKETS_PER_ADDRESS,
            audit_retention_days: 365,
            database_url: None,
            secret_key: None,
            admin_token: None,
            tls: TlsConfig::default(),
            log: LogConfig::default(),
            cache: CacheConfig::default(),
            images: ImagesConfig::default(),
        }
    }
}

impl Config {
    /// Returns the media directory: the configured one, or `<data_dir>/media`.
    pub fn media_dir(&self) -> PathBuf {
        match &self.media_dir {
            Some(dir) => dir.clone(),
            None => self.data_dir.join("media"),
        }
    }

    /// Returns the disk cache folder: the configured one, or `<data_dir>/cache`.
    pub fn cache_dir(&self) -> PathBuf {
        match &self.cache.dir {
            Some(dir) => dir.clone(),
            None => self.data_dir.join("cache"),
        }
    }

    /// Returns the SQLite file used when `database_url` is unset.
    pub fn default_database_file(&self) -> PathBuf {
        self.data_dir.join("onesheet.db")
    }
}

/// Log output settings, the `[log]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Line format: `text` for people, `json` for log collectors.
    pub format: LogFormat,
    /// Filter directive in `tracing_subscriber::EnvFilter` syntax, such as `info` or
    /// `onesheet=debug,info`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// Format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Json => "json",
        })
    }
}

/// When the session cookie gets the `Secure` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CookieSecure {
    Auto,
    Always,
    Never,
}

impl fmt::Display for CookieSecure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Always => "always",
            Self::Never => "never",
        })
    }
}

/// Source of one key's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    /// An environment variable, by name. For a `*_FILE` variable the value is the file's content.
    Env(String),
    /// A command-line flag, such as `--log-format`.
    Flag(&'static str),
}

impl Origin {
    /// Formats the origin with its preposition for an error message: "in /etc/onesheet.toml",
    /// "from ONESHEET_LISTEN".
    pub fn location(&self) -> String {
        match self {
            Self::Default => "in the defaults".to_owned(),
            Self::File(path) => format!("in {}", path.display()),
            Self::Env(var) => format!("from {var}"),
            Self::Flag(flag) => format!("from the {flag} flag"),
        }
    }
}

/// The `config check` form: "default", "file /etc/onesheet.toml", "env ONESHEET_LISTEN".
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::Env(var) => write!(f, "env {var}"),
            Self::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// A validated configuration and where each of its values came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// Origin of each leaf key set by a file, variable or flag, by dotted name such as
    /// `log.format`. A key missing here has its default value.
    pub origins: BTreeMap<String, Origin>,
    /// The configuration file that was read, if any.
    pub file: Option<PathBuf>,
}

static DEFAULT_ORIGIN: Origin = Origin::Default;

impl LoadedConfig {
    /// Returns where the value of a dotted key came from.
    pub fn origin(&self, key: &str) -> &Origin {
        self.origins.get(key).unwrap_or(&DEFAULT_ORIGIN)
    }

    /// Applies the `--log-format` flag, which overrides the file and the environment.
    pub fn override_log_format(&mut self, format: LogFormat) {
        self.config.log.format = format;
        self.origins
            .insert("log.format".to_owned(), Origin::Flag("--log-format"));
    }
}

/// Largest configuration or secret file read, in bytes. Real ones are a few hundred bytes; the
/// cap stops `/dev/zero` or a wrong path to a large file from exhausting memory.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a configuration or secret file as UTF-8, rejecting anything that is not a regular file
/// (a FIFO would block the start-up forever) or is larger than [`MAX_FILE_BYTES`].
fn read_text_file(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;

    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    Ok(text)
}

/// Reads a list of strings given either as a sequence or as one string separated by commas or
/// whitespace, such as `ONESHEET_TRUSTED_PROXIES=10.0.0.0/8,192.168.1.2`.
fn list_or_comma_separated<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }

    let entries = match ListOrText::deserialize(deserializer)? {
        ListOrText::List(entries) => entries,
        ListOrText::Text(text) => text
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(str::to_owned)
            .collect(),
    };
    Ok(entries
        .into_iter()
        .map(|entry| entry.trim().to_owned())
        .filter(|entry| !entry.is_empty())
        .collect())
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn oversized_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        let error = read_text_file(&path).unwrap_err();
        assert!(error.to_string().contains("larger than"), "{error}");
    }

    #[test]
    fn folder_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_text_file(dir.path()).unwrap_err();
        assert_eq!(error.to_string(), "not a regular file");
    }

    #[test]
    fn small_file_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("onesheet.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1\"\n").unwrap();
        assert_eq!(read_text_file(&path).unwrap(), "listen = \"127.0.0.1:1\"\n");
    }
}
