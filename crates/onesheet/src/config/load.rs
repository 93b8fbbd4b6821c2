//! Merging of the configuration layers with figment, and the translation of figment's errors
//! into [`ConfigError`]s that name the key and the file or variable it came from.
//!
//! Figment merges the layers and deserializes the result, but the unknown-key check walks each
//! layer before the merge. After the merge, figment's error for an unknown field does not record
//! which layer the misspelled key came from, so it could not name the file or variable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::error::Kind;
use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Tag, Value};
use figment::{Figment, Metadata, Profile, Provider};

use super::error::TextPosition;
use super::{Config, ConfigError, DEFAULT_FILE, LoadedConfig, Origin, env, keys, validate};

/// Loads and validates the configuration.
///
/// `path` is the `--config` value, which the command line also reads from `ONESHEET_CONFIG`.
/// Without it, `./onesheet.toml` is read if it exists. `env` is the environment, such as
/// [`super::process_env`]'s result, and every `ONESHEET_*` variable in it must name a key.
pub fn load(
    path: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<LoadedConfig, ConfigError> {
    load_with_default_file(path, Path::new(DEFAULT_FILE), env)
}

/// Does the work of [`load`], with the default file's path as a parameter so that tests do not
/// depend on the working directory.
fn load_with_default_file(
    explicit: Option<&Path>,
    default_file: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<LoadedConfig, ConfigError> {
    let mut origins = BTreeMap::new();
    let mut figment = Figment::new();

    let file = read_file(explicit, default_file)?;
    let file_path = match file {
        Some((path, text)) => {
            let dict = parse_toml(&path, &text)?;
            record_file_keys(&dict, "", &path, &mut origins)?;
            figment = figment.merge(Layer { name: "file", dict });

            // The file is checked on its own too: a bad value in it must not go unnoticed just
            // because an environment variable overrides it today.
            let mut file_config: Config = figment
                .extract_lossy()
                .map_err(|error| translate_error(error, &figment, &origins))?;
            validate::validate(&mut file_config, &origins)?;
            Some(path)
        }
        None => None,
    };

    // Values stay strings here, unlike figment's own `Env` provider, which would turn
    // ONESHEET_SECRET_KEY=12345 into a number that a string field then rejects.
    // `extract_lossy` still converts a string to a number or a bool where a field needs one.
    let mut env_dict = Dict::new();
    for value in env::read(env)? {
        insert_nested(&mut env_dict, value.key, Value::from(value.value));
        origins.insert(value.key.to_owned(), Origin::Env(value.var));
    }
    figment = figment.merge(Layer {
        name: "environment",
        dict: env_dict,
    });

    let mut config: Config = figment
        .extract_lossy()
        .map_err(|error| translate_error(error, &figment, &origins))?;
    validate::validate(&mut config, &origins)?;

    Ok(LoadedConfig {
        config,
        origins,
        file: file_path,
    })
}

/// One already-parsed layer, wrapped because figment merges only a `Provider`.
struct Layer {
    name: &'static str,
    dict: Dict,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// Reads the explicit file, which must exist, or else the default file if it exists. The path
/// returned is absolute so that messages name the file unambiguously.
fn read_file(
    explicit: Option<&Path>,
    default_file: &Path,
) -> Result<Option<(PathBuf, String)>, ConfigError> {
    let path = explicit.unwrap_or(default_file);
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match super::read_text_file(&path) {
        Ok(text) => Ok(Some((path, text))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => match explicit {
            Some(_) => Err(ConfigError::FileNotFound { path }),
            None => Ok(None),
        },
        Err(error) => Err(ConfigError::ReadFile { path, error }),
    }
}

/// Parses TOML with the parser figment's `Toml` provider uses, keeping the error's position.
fn parse_toml(path: &Path, text: &str) -> Result<Dict, ConfigError> {
    Toml::from_str::<Dict>(text).map_err(|error| ConfigError::Syntax {
        path: path.to_path_buf(),
        position: error
            .span()
            .map(|span| TextPosition::at_offset(text, span.start)),
        // toml puts the expected tokens on a second line, and one line reads better in a terminal.
        message: error.message().trim_end().replace('\n', "; "),
    })
}

/// Checks every key of a file's table against the known keys and records the file as the
/// origin of each one.
fn record_file_keys(
    dict: &Dict,
    prefix: &str,
    path: &Path,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<(), ConfigError> {
    for (name, value) in dict {
        let key = match prefix {
            "" => name.clone(),
            _ => format!("{prefix}.{name}"),
        };
        match value {
            Value::Dict(_, table) if keys::is_table(&key) => {
                record_file_keys(table, &key, path, origins)?;
            }
            // A table name with a non-table value is recorded here and rejected by serde.
            _ if keys::find(&key).is_some() || keys::is_table(&key) => {
                origins.insert(key, Origin::File(path.to_path_buf()));
            }
            _ => {
                let suggestion = keys::closest(&key);
                return Err(ConfigError::UnknownKey {
                    key,
                    origin: Origin::File(path.to_path_buf()),
                    suggestion,
                });
            }
        }
    }
    Ok(())
}

/// Inserts a value at a dotted key, creating the tables on the way.
fn insert_nested(dict: &mut Dict, key: &str, value: Value) {
    let Some((table, rest)) = key.split_once('.') else {
        dict.insert(key.to_owned(), value);
        return;
    };
    let entry = dict
        .entry(table.to_owned())
        .or_insert_with(|| Value::Dict(Tag::Default, Dict::new()));
    if let Value::Dict(_, inner) = entry {
        insert_nested(inner, rest, value);
    }
}

fn translate_error(
    error: figment::Error,
    figment: &Figment,
    origins: &BTreeMap<String, Origin>,
) -> ConfigError {
    let mut path = error.path.clone();

    // `deny_unknown_fields` is a second line of defence: `record_file_keys` and `env::read`
    // reject unknown keys first and can name their source.
    if let Kind::UnknownField(field, _) = &error.kind {
        path.push(field.clone());
        let key = path.join(".");
        return ConfigError::UnknownKey {
            suggestion: keys::closest(&key),
            origin: origin_of(&key, origins),
            key,
        };
    }

    let key = path.join(".");
    let Some(expected) = keys::expected_form(&key) else {
        return ConfigError::Other {
            message: error.to_string(),
        };
    };
    let value = match keys::is_secret(&key) {
        true => None,
        false => figment.find_value(&key).ok().map(|value| describe(&value)),
    };
    ConfigError::InvalidValue {
        origin: origin_of(&key, origins),
        key,
        value,
        expected,
    }
}

/// Finds the origin of a key, or of the nearest table above it.
fn origin_of(key: &str, origins: &BTreeMap<String, Origin>) -> Origin {
    let mut current = key;
    loop {
        if let Some(origin) = origins.get(current) {
            return origin.clone();
        }
        match current.rsplit_once('.') {
            Some((parent, _)) => current = parent,
            None => return Origin::Default,
        }
    }
}

/// Spells a value as its source would have: strings quoted, numbers and booleans bare.
fn describe(value: &Value) -> String {
    match value {
        Value::String(_, text) => format!("{text:?}"),
        Value::Char(_, c) => format!("{c:?}"),
        Value::Bool(_, b) => b.to_string(),
        Value::Num(..) => value
            .to_u128()
            .map(|n| n.to_string())
            .or_else(|| value.to_i128().map(|n| n.to_string()))
            .or_else(|| value.to_f64().map(|n| n.to_string()))
            .unwrap_or_else(|| "a number".to_owned()),
        Value::Empty(..) => "an empty value".to_owned(),
        Value::Dict(..) => "a table".to_owned(),
        Value::Array(..) => "a list".to_owned(),
    }
}

#[cfg(test)]
mod tests;
