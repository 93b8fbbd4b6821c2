//! The list of configuration keys, which the unknown-key check, the error messages and
//! `config check` share so that a key added to [`super::Config`] is added here once.
//!
//! A test in `check.rs` compares this list with the keys that `render_check` prints, and one in
//! `load/tests.rs` compares it with the fields serde accepts, so the list cannot drift from the
//! struct.

/// Prefix of every environment variable that sets a configuration key.
pub const ENV_PREFIX: &str = "ONESHEET_";

/// Separator between nested key names in a variable name: `ONESHEET_LOG__FORMAT` is `log.format`.
pub const ENV_NESTING: &str = "__";

/// Suffix of a variable that names a file holding a secret key's value.
pub const ENV_FILE_SUFFIX: &str = "_FILE";

/// One leaf key: its dotted name, whether its value is secret, and the form it accepts.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub secret: bool,
    /// Completes "expected …" in an invalid-value message.
    pub expected: &'static str,
}

/// Every leaf key in the order `config check` prints them.
pub const KEYS: &[Key] = &[
    Key {
        name: "listen",
        secret: false,
        expected: "an IP address and port such as 0.0.0.0:8080 (host names such as localhost are not accepted)",
    },
    Key {
        name: "data_dir",
        secret: false,
        expected: "a directory path such as ./data",
    },
    Key {
        name: "media_dir",
        secret: false,
        expected: "a directory path such as ./data/media",
    },
    Key {
        name: "base_path",
        secret: false,
        expected: "a URL path such as /posters, at most 64 characters of letters, digits, \
                   '-', '.', '_', '~' and '/', without \"..\" or \"//\"",
    },
    Key {
        name: "public_url",
        secret: false,
        expected: "an http or https URL without user name, query or fragment, \
                   such as https://posters.example.com",
    },
    Key {
        name: "force_https",
        secret: false,
        expected: "true or false; true needs public_url with an https scheme",
    },
    Key {
        name: "trusted_proxies",
        secret: false,
        expected: "a list of IP addresses or CIDR ranges of your reverse proxies, such as \
                   [\"10.0.0.0/8\", \"192.168.1.2\"] or, in the environment, 10.0.0.0/8,192.168.1.2",
    },
    Key {
        name: "cors_origins",
        secret: false,
        expected: "a list of origins such as [\"https://dashboard.example\"]: a scheme, a host and an optional port, with no path",
    },
    Key {
        name: "cookie_secure",
        secret: false,
        expected: "auto (Secure when the request came over HTTPS), always or never",
    },
    Key {
        name: "display_networks",
        secret: false,
        expected: "a list of IP addresses or CIDR ranges whose screens may load display pages, such as \
                   [\"192.168.1.0/24\"] or, in the environment, 192.168.1.0/24,10.0.0.0/8",
    },
    Key {
        name: "public_displays",
        secret: false,
        expected: "true or false",
    },
    Key {
        name: "device_auto_admit",
        secret: false,
        expected: "a list of IP addresses or CIDR ranges whose screens are admitted without a pairing code, such as \
                   [\"192.168.1.0/24\"] or, in the environment, 192.168.1.0/24,10.0.0.7",
    },
    Key {
        name: "device_auto_recover_frozen",
        secret: false,
        expected: "true or false",
    },
    Key {
        name: "device_max_sockets",
        secret: false,
        expected: "a whole number of device connections of at least 1, such as 20000",
    },
    Key {
        name: "device_max_sockets_per_address",
        secret: false,
        expected: "a whole number of device connections of at least 1, such as 256",
    },
    Key {
        name: "audit_retention_days",
        secret: false,
        expected: "a whole number of days from 0 to 36500, such as 365; 0 keeps audit events forever",
    },
    Key {
        name: "database_url",
        secret: true,
        expected: "a SQLite URL such as sqlite:///var/lib/onesheet/onesheet.db",
    },
    Key {
        name: "secret_key",
        secret: true,
        expected: "32 random bytes as 64 hex digits or base64, such as the output of `openssl rand -base64 32`",
    },
    Key {
        name: "admin_token",
        secret: true,
        expected: "a random string of at least 24 characters, such as the output of `openssl rand -base64 24`",
    },
    Key {
        name: "tls.cert_file",
        secret: false,
        expected: "a path to a PEM file with the server's certificate followed by its intermediate certificates, such as /etc/onesheet/fullchain.pem",
    },
    Key {
        name: "tls.key_file",
        secret: false,
        expected: "a path to a PEM file with the certificate's private key, such as /etc/onesheet/privkey.pem",
    },
    Key {
        name: "log.format",
        secret: false,
        expected: "text or json",
    },
    Key {
        name: "log.level",
        secret: false,
        expected: "a level (trace, debug, info, warn, error or off) or a filter such as onesheet=debug,info",
    },
    Key {
        name: "cache.dir",
        secret: false,
        expected: "a directory path such as ./data/cache",
    },
    Key {
        name: "cache.max_bytes",
        secret: false,
        expected: "a size such as \"2 GiB\" or a number of bytes; 0 turns the disk cache off",
    },
    Key {
        name: "cache.min_free_bytes",
        secret: false,
        expected: "a size such as \"1 GiB\" or a number of bytes",
    },
    Key {
        name: "cache.memory_bytes",
        secret: false,
        expected: "a size such as \"64 MiB\" or a number of bytes, at most 64 GiB",
    },
    Key {
        name: "images.max_pixels",
        secret: false,
        expected: "a whole number of pixels from 1 to 1000000000, such as 100000000",
    },
    Key {
        name: "images.max_side",
        secret: false,
        expected: "a whole number of pixels from 1 to 65535, such as 20000",
    },
    Key {
        name: "images.max_input_bytes",
        secret: false,
        expected: "a size from 1 KiB to 1 GiB, such as \"50 MiB\"",
    },
    Key {
        name: "images.workers",
        secret: false,
        expected: "a whole number from 0 to 256; 0 means one per CPU core",
    },
    Key {
        name: "images.queue",
        secret: false,
        expected: "a whole number from 0 to 100000, such as 128",
    },
    Key {
        name: "images.deadline_seconds",
        secret: false,
        expected: "a whole number of seconds from 1 to 600, such as 20",
    },
];

/// Tables that group leaf keys, with the form they accept when given a non-table value.
pub const TABLES: &[(&str, &str)] = &[
    ("log", "a table with the keys format and level"),
    (
        "cache",
        "a table with the keys dir, max_bytes, min_free_bytes and memory_bytes",
    ),
    (
        "images",
        "a table with the keys max_pixels, max_side, max_input_bytes, workers, queue and deadline_seconds",
    ),
    ("tls", "a table with the keys cert_file and key_file"),
];

/// Lowest Jaro-Winkler similarity at which an unknown key gets a "did you mean" suggestion.
/// At 0.8, "lisen" and "log.formt" find their keys while unrelated words such as "port" do not.
const SUGGESTION_THRESHOLD: f64 = 0.8;

pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.name == name)
}

pub fn is_table(name: &str) -> bool {
    TABLES.iter().any(|(table, _)| *table == name)
}

pub fn is_secret(name: &str) -> bool {
    find(name).is_some_and(|key| key.secret)
}

/// Returns the accepted form of a leaf key or table, or `None` for a name that is neither.
pub fn expected_form(name: &str) -> Option<&'static str> {
    if let Some(key) = find(name) {
        return Some(key.expected);
    }
    TABLES
        .iter()
        .find(|(table, _)| *table == name)
        .map(|(_, expected)| *expected)
}

/// Builds the environment variable name of a dotted key: `log.format` is `ONESHEET_LOG__FORMAT`.
pub fn env_var(name: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        name.replace('.', ENV_NESTING).to_ascii_uppercase()
    )
}

/// Finds the leaf key closest to an unknown dotted name, if any is close enough to be a typo.
pub fn closest(unknown: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|key| (key.name, strsim::jaro_winkler(unknown, key.name)))
        .filter(|(_, similarity)| *similarity >= SUGGESTION_THRESHOLD)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(name, _)| name)
}

/// Lists every leaf key for the message about an unknown key that resembles none of them.
pub fn list() -> String {
    KEYS.iter()
        .map(|key| key.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names() {
        assert_eq!(env_var("listen"), "ONESHEET_LISTEN");
        assert_eq!(env_var("log.format"), "ONESHEET_LOG__FORMAT");
        assert_eq!(env_var("secret_key"), "ONESHEET_SECRET_KEY");
    }

    #[test]
    fn closest_finds_typos() {
        assert_eq!(closest("lisen"), Some("listen"));
        assert_eq!(closest("log.formt"), Some("log.format"));
        assert_eq!(closest("log_format"), Some("log.format"));
        assert_eq!(closest("datadir"), Some("data_dir"));
        assert_eq!(closest("secret"), Some("secret_key"));
    }

    #[test]
    fn closest_ignores_unrelated() {
        assert_eq!(closest("port"), None);
        assert_eq!(closest("zzz"), None);
    }

    #[test]
    fn expected_form_covers_tables() {
        assert_eq!(expected_form("log"), Some(TABLES[0].1));
        assert_eq!(expected_form("listen"), Some(KEYS[0].expected));
        assert_eq!(expected_form("nope"), None);
    }
}
