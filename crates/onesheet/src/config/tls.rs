//! The `[tls]` table and `force_https`: built-in HTTPS and the redirect from plain HTTP.
//!
//! Only the settings are checked here. The files are read at start, where an unreadable file,
//! or one without a certificate or a key, stops the server with an error naming the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Config, ConfigError, Origin, keys};

/// Built-in HTTPS, the `[tls]` table. With both files set, the server speaks HTTPS only on
/// `listen` and reloads the files when they change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the server's certificate followed by its intermediate certificates.
    pub cert_file: Option<PathBuf>,
    /// PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
}

impl TlsConfig {
    /// Returns the certificate and key paths when HTTPS is configured.
    pub fn files(&self) -> Option<(&Path, &Path)> {
        match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => Some((cert, key)),
            _ => None,
        }
    }
}

/// Checks that the TLS files come as a pair and that `force_https` has an https public URL
/// to send clients to. Runs after `public_url` is normalized.
pub(super) fn validate(
    config: &Config,
    origins: &BTreeMap<String, Origin>,
) -> Result<(), ConfigError> {
    let origin = |key: &str| origins.get(key).cloned().unwrap_or(Origin::Default);

    for (key, path) in [
        ("tls.cert_file", &config.tls.cert_file),
        ("tls.key_file", &config.tls.key_file),
    ] {
        if path
            .as_ref()
            .is_some_and(|path| path.as_os_str().is_empty())
        {
            return Err(ConfigError::InvalidValue {
                key: key.to_owned(),
                origin: origin(key),
                value: Some("\"\"".to_owned()),
                expected: keys::find(key).map_or("", |found| found.expected),
            });
        }
    }

    match (&config.tls.cert_file, &config.tls.key_file) {
        (Some(_), None) => {
            return Err(ConfigError::IncompletePair {
                set: "tls.cert_file",
                origin: origin("tls.cert_file"),
                missing: "tls.key_file",
            });
        }
        (None, Some(_)) => {
            return Err(ConfigError::IncompletePair {
                set: "tls.key_file",
                origin: origin("tls.key_file"),
                missing: "tls.cert_file",
            });
        }
        _ => {}
    }

    let https_url = config
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    if config.force_https && !https_url {
        return Err(ConfigError::ForceHttpsWithoutHttpsUrl {
            origin: origin("force_https"),
            public_url: config.public_url.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(config: &Config) -> Result<(), ConfigError> {
        validate(config, &BTreeMap::new())
    }

    #[test]
    fn both_files_or_neither() {
        let mut config = Config::default();
        check(&config).unwrap();

        config.tls.cert_file = Some(PathBuf::from("/etc/onesheet/fullchain.pem"));
        let message = check(&config).unwrap_err().to_string();
        assert_eq!(
            message,
            "tls.cert_file is set in the defaults but tls.key_file is not: set both to serve HTTPS, or neither"
        );

        config.tls.key_file = Some(PathBuf::from("/etc/onesheet/privkey.pem"));
        check(&config).unwrap();
        assert_eq!(
            config.tls.files(),
            Some((
                Path::new("/etc/onesheet/fullchain.pem"),
                Path::new("/etc/onesheet/privkey.pem")
            ))
        );

        config.tls.cert_file = None;
        let message = check(&config).unwrap_err().to_string();
        assert!(
            message.starts_with("tls.key_file is set in the defaults but tls.cert_file is not"),
            "{message}"
        );
        assert_eq!(config.tls.files(), None);
    }

    #[test]
    fn incomplete_pair_names_the_origin() {
        let config = Config {
            tls: TlsConfig {
                cert_file: None,
                key_file: Some(PathBuf::from("key.pem")),
            },
            ..Config::default()
        };
        let origins = BTreeMap::from([(
            "tls.key_file".to_owned(),
            Origin::Env("ONESHEET_TLS__KEY_FILE".to_owned()),
        )]);
        let message = validate(&config, &origins).unwrap_err().to_string();
        assert!(
            message.starts_with("tls.key_file is set from ONESHEET_TLS__KEY_FILE but"),
            "{message}"
        );
    }

    #[test]
    fn empty_file_path_is_invalid() {
        let config = Config {
            tls: TlsConfig {
                cert_file: Some(PathBuf::new()),
                key_file: Some(PathBuf::from("key.pem")),
            },
            ..Config::default()
        };
        let message = check(&config).unwrap_err().to_string();
        assert!(
            message.starts_with(
                "invalid value for tls.cert_file in the defaults: \"\": expected a path"
            ),
            "{message}"
        );
    }

    #[test]
    fn force_https_needs_an_https_public_url() {
        let mut config = Config {
            force_https: true,
            ..Config::default()
        };
        let message = check(&config).unwrap_err().to_string();
        assert!(message.contains("public_url is unset"), "{message}");
        assert!(message.contains("or turn force_https off"), "{message}");

        config.public_url = Some("http://posters.example.com".to_owned());
        let message = check(&config).unwrap_err().to_string();
        assert!(
            message.contains("public_url is \"http://posters.example.com\""),
            "{message}"
        );

        config.public_url = Some("https://posters.example.com".to_owned());
        check(&config).unwrap();
    }

    #[test]
    fn force_https_off_accepts_any_public_url() {
        let config = Config {
            public_url: Some("http://10.0.0.5:8080".to_owned()),
            ..Config::default()
        };
        check(&config).unwrap();
    }
}
