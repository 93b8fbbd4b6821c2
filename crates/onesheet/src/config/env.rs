//! The `ONESHEET_*` environment layer, including `*_FILE` variables for secret keys.
//!
//! The loader takes the environment as a list of pairs instead of reading the process
//! environment, so that tests pass their own variables. Tests cannot set process variables,
//! because edition 2024 makes `std::env::set_var` unsafe and the workspace forbids unsafe code.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::keys::{self, ENV_FILE_SUFFIX, ENV_NESTING, ENV_PREFIX};
use super::{CONFIG_PATH_VAR, ConfigError, Origin};

/// One key set by the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvValue {
    /// Dotted name of a known leaf key.
    pub key: &'static str,
    /// The variable that supplied the value: `ONESHEET_SECRET_KEY_FILE` for a value read from
    /// the file it names.
    pub var: String,
    pub value: String,
}

/// Reads the process environment for [`super::load`].
///
/// Variables outside `ONESHEET_*` whose name or value is not UTF-8 are skipped because they do
/// not configure Onesheet. Such an `ONESHEET_*` variable is an error, since skipping it would
/// silently drop a setting.
pub fn process_env() -> Result<Vec<(String, String)>, ConfigError> {
    let mut vars = Vec::new();
    for (name, value) in std::env::vars_os() {
        let lossy_name = name.to_string_lossy();
        let ours = lossy_name.starts_with(ENV_PREFIX);
        match (name.to_str(), value.into_string()) {
            (Some(name), Ok(value)) => vars.push((name.to_owned(), value)),
            _ if ours => {
                return Err(ConfigError::NotUnicode {
                    var: lossy_name.into_owned(),
                });
            }
            _ => {}
        }
    }
    Ok(vars)
}

/// Picks the configuration variables out of an environment, reads `*_FILE` secrets and rejects
/// names that match no key. The result is sorted by variable name.
pub fn read(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<EnvValue>, ConfigError> {
    // A BTreeMap makes the order, and so the first error reported, independent of the
    // environment's order.
    let mut ours: BTreeMap<String, String> = vars
        .into_iter()
        .filter(|(name, _)| name.starts_with(ENV_PREFIX) && name != CONFIG_PATH_VAR)
        .collect();

    let mut values = Vec::new();
    for key in keys::KEYS.iter().filter(|key| key.secret) {
        let var = keys::env_var(key.name);
        let file_var = format!("{var}{ENV_FILE_SUFFIX}");
        let Some(path) = ours.remove(&file_var) else {
            continue;
        };
        if ours.contains_key(&var) {
            return Err(ConfigError::SecretSetTwice { var, file_var });
        }
        let value = read_secret_file(&file_var, PathBuf::from(path))?;
        values.push(EnvValue {
            key: key.name,
            var: file_var,
            value,
        });
    }

    for (var, value) in ours {
        let key = key_of(&var);
        let Some(known) = keys::find(&key) else {
            let suggestion = keys::closest(&key);
            return Err(ConfigError::UnknownKey {
                key,
                origin: Origin::Env(var),
                suggestion,
            });
        };
        values.push(EnvValue {
            key: known.name,
            var,
            value,
        });
    }

    values.sort_by(|a, b| a.var.cmp(&b.var));
    Ok(values)
}

/// Converts a variable name to a dotted key: `ONESHEET_LOG__FORMAT` is `log.format`.
fn key_of(var: &str) -> String {
    let rest = var.strip_prefix(ENV_PREFIX).unwrap_or(var);
    rest.to_ascii_lowercase().replace(ENV_NESTING, ".")
}

/// Reads a secret from a file, without the one line ending that editors and `echo` add.
fn read_secret_file(var: &str, path: PathBuf) -> Result<String, ConfigError> {
    let mut value = match super::read_text_file(&path) {
        Ok(value) => value,
        Err(error) => {
            return Err(ConfigError::SecretFile {
                var: var.to_owned(),
                path,
                error,
            });
        }
    };
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn read_maps_nested_names() {
        let values = read(vars(&[
            ("ONESHEET_LOG__FORMAT", "json"),
            ("ONESHEET_LISTEN", "127.0.0.1:9000"),
            ("PATH", "/usr/bin"),
        ]))
        .unwrap();
        let keys: Vec<_> = values.iter().map(|value| value.key).collect();
        assert_eq!(keys, ["listen", "log.format"]);
        assert_eq!(values[1].var, "ONESHEET_LOG__FORMAT");
        assert_eq!(values[1].value, "json");
    }

    #[test]
    fn read_skips_config_path_var() {
        let values = read(vars(&[("ONESHEET_CONFIG", "/etc/onesheet.toml")])).unwrap();
        assert!(values.is_empty());
    }

    #[test]
    fn read_rejects_unknown_name() {
        let error = read(vars(&[("ONESHEET_LISEN", "0.0.0.0:80")])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown key \"lisen\" from ONESHEET_LISEN: did you mean ONESHEET_LISTEN?"
        );
    }

    #[test]
    fn file_variant_only_for_secrets() {
        let error = read(vars(&[("ONESHEET_LISTEN_FILE", "/run/listen")])).unwrap_err();
        assert!(matches!(error, ConfigError::UnknownKey { .. }), "{error}");
    }

    #[test]
    fn secret_file_trims_one_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "s3cret\n\n").unwrap();
        let crlf = dir.path().join("url");
        std::fs::write(&crlf, "sqlite://x.db\r\n").unwrap();

        let values = read(vars(&[
            ("ONESHEET_SECRET_KEY_FILE", path.to_str().unwrap()),
            ("ONESHEET_DATABASE_URL_FILE", crlf.to_str().unwrap()),
        ]))
        .unwrap();

        assert_eq!(values[0].key, "database_url");
        assert_eq!(values[0].value, "sqlite://x.db");
        assert_eq!(values[1].key, "secret_key");
        assert_eq!(values[1].var, "ONESHEET_SECRET_KEY_FILE");
        assert_eq!(values[1].value, "s3cret\n");
    }

    #[test]
    fn secret_file_missing_names_var_and_path() {
        let error = read(vars(&[("ONESHEET_SECRET_KEY_FILE", "/nonexistent/key")])).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("failed to read ONESHEET_SECRET_KEY_FILE (/nonexistent/key): "),
            "{message}"
        );
    }

    #[test]
    fn secret_and_file_variant_conflict() {
        let error = read(vars(&[
            ("ONESHEET_SECRET_KEY", "a"),
            ("ONESHEET_SECRET_KEY_FILE", "/run/secrets/key"),
        ]))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "both ONESHEET_SECRET_KEY and ONESHEET_SECRET_KEY_FILE are set; set only one of them"
        );
    }

    #[test]
    fn process_env_reads() {
        assert!(process_env().is_ok());
    }
}
