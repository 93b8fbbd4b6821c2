//! Server addresses as users type them, normalised once into scheme, host, port and base path.
//!
//! People paste a media server's address in many shapes. It may be a full URL copied from the
//! browser (`https://media.example.org/jellyfin/`), a host and port (`media.example.org:8920`),
//! a bare host with the base path in its own field, or an IPv6 literal (`[::1]:8096`), often
//! with stray spaces and trailing slashes. [`ServerAddress::parse`] accepts all of them and rejects the
//! contradictions (scheme against the https switch, two different base paths) with an error that
//! names the field to fix. [`ServerAddress::url`] then builds every request URL with the `url`
//! crate, so the base path survives and query values are always percent-encoded.

use std::fmt;
use std::net::Ipv6Addr;

use url::Url;

/// URL scheme of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }
}

/// A normalised server address: scheme, host, port and a base path under which the server's
/// API lives (for a server behind a reverse proxy at a sub-path).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddress {
    scheme: Scheme,
    host: String,
    port: u16,
    base_path: String,
    /// `scheme://host:port/`, validated once so that building a request URL cannot fail.
    origin: Url,
}

/// An address that cannot be used, with the configuration field to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid server {field}: {message}")]
pub struct AddressError {
    /// `host`, `base_path` or `https`: the argument of [`ServerAddress::parse`] at fault.
    pub field: &'static str,
    pub message: String,
}

impl AddressError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl ServerAddress {
    /// Parses and normalises an address from the fields a user filled in.
    ///
    /// `host` may be a bare host name or IP address, `host:port`, or a whole `http(s)://` URL
    /// with a path, which then becomes the base path. `base_path` is the separate base path
    /// field, with or without slashes. `https` is the separate switch: `None` takes the scheme
    /// from `host`, or plain HTTP when `host` has none. `default_port` is the server software's
    /// usual port (8096 for Jellyfin, 32400 for Plex). It applies only to a host typed without
    /// a scheme and without a port, because a typed `https://host` means the scheme's own port,
    /// as in a browser.
    ///
    /// User credentials, a query or a fragment in `host` are rejected, as is a scheme, base
    /// path or port that contradicts another field. So are typing mistakes that would
    /// otherwise parse as another address: a mistyped scheme (`http:/host`, `http//host`,
    /// `https:host`), a host named `http` or `https`, and a backslash.
    pub fn parse(
        host: &str,
        base_path: Option<&str>,
        https: Option<bool>,
        default_port: Option<u16>,
    ) -> Result<Self, AddressError> {
        let host = host.trim();
        if host.is_empty() {
            return Err(AddressError::new(
                "host",
                "is empty; enter the server's host name or address",
            ));
        }

        check_typos(host)?;
        let (typed_scheme, rest) = split_scheme(host)?;
        let scheme = resolve_scheme(typed_scheme, https)?;

        // A bare IPv6 address has colons that `url` would read as a port separator.
        let rest = match rest.parse::<Ipv6Addr>() {
            Ok(_) => format!("[{rest}]"),
            Err(_) => rest.to_owned(),
        };
        let parsed = Url::parse(&format!("{}://{rest}", scheme.as_str()))
            .map_err(|error| AddressError::new("host", format!("{error}{}", quote_input(host))))?;

        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(AddressError::new(
                "host",
                "contains a user name or password; remove them and enter credentials in their own fields",
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(AddressError::new(
                "host",
                "contains a query or fragment (`?` or `#`); enter only the server's address",
            ));
        }
        let host_name = match parsed.host_str() {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => {
                return Err(AddressError::new(
                    "host",
                    format!("has no host name{}", quote_input(host)),
                ));
            }
        };
        // `url` lowercases host names, so this also catches `HTTP`.
        if host_name == "http" || host_name == "https" {
            return Err(AddressError::new(
                "host",
                format!(
                    "has the host name {host_name:?}, which looks like a mistyped scheme{}; {EXAMPLE_ORIGIN}",
                    quote_input(host)
                ),
            ));
        }

        let port = match parsed.port() {
            Some(0) => {
                return Err(AddressError::new(
                    "host",
                    "has port 0; enter the server's port (1-65535)",
                ));
            }
            Some(port) => port,
            None if typed_scheme.is_none() => default_port.unwrap_or(scheme.default_port()),
            None => scheme.default_port(),
        };

        // `url` has already resolved `.` and `..` segments in both paths.
        let path_in_host = normalise_path(parsed.path());
        let base_path = match base_path {
            Some(field) => normalise_base_path(&parsed, field)?,
            None => String::new(),
        };
        let base_path = match (path_in_host.is_empty(), base_path.is_empty()) {
            (true, _) => base_path,
            (false, true) => path_in_host,
            (false, false) if path_in_host == base_path => base_path,
            (false, false) => {
                return Err(AddressError::new(
                    "base_path",
                    format!(
                        "{base_path:?} differs from the path {path_in_host:?} in the host field; keep the path in one of them"
                    ),
                ));
            }
        };

        let mut origin = parsed;
        origin.set_path("/");
        // `set_port` fails only for URLs that cannot have a port, which http(s) URLs can.
        let _ = origin.set_port(Some(port));

        Ok(Self {
            scheme,
            host: host_name,
            port,
            base_path,
            origin,
        })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Host name or IP address; an IPv6 address keeps its brackets, as in a URL.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Base path with a leading slash and no trailing slash, or empty.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Builds the URL of `path` under the base path, with `query` appended.
    ///
    /// `path` may start with a slash or not: exactly one slash joins it to the base path, and
    /// characters that are not allowed in a path (spaces, `?`, `#`) are percent-encoded. Query
    /// names and values are form-encoded in the given order.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.origin.clone();
        let path = path.trim_start_matches('/');
        url.set_path(&format!("{}/{path}", self.base_path));

        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        url
    }
}

impl fmt::Display for ServerAddress {
    /// Writes the address as a URL without a trailing slash, for example
    /// `https://media.example.org/jellyfin`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(formatter, ":{}", self.port)?;
        }
        formatter.write_str(&self.base_path)
    }
}

/// Returns ` in "<input>"` for an error message, or nothing when the input may contain a
/// password (`user:password@`) or a token in a query, which must not reach a log.
fn quote_input(input: &str) -> String {
    if input.contains(['@', '?', '#']) {
        String::new()
    } else {
        format!(" in {input:?}")
    }
}

/// The expected form of the host field, for errors about a mistyped one.
const EXAMPLE_ORIGIN: &str =
    "type the address as http:// or https:// and the host, such as https://media.example.org:8920";

/// Rejects typing mistakes that `url` would otherwise turn into a different address.
///
/// Once the scheme is put in front, `url` reads `http:/host` and `http//host` as the host
/// `http` with the path `/host`. It also reads a backslash as a slash in http(s) URLs, so
/// `host:8096\jellyfin` would quietly get a base path.
fn check_typos(host: &str) -> Result<(), AddressError> {
    if host.contains('\\') {
        return Err(AddressError::new(
            "host",
            format!(
                "contains a backslash{}; use forward slashes, such as https://media.example.org/jellyfin",
                quote_input(host)
            ),
        ));
    }

    let lowercase = host.to_ascii_lowercase();
    for scheme in ["http", "https"] {
        let Some(rest) = lowercase.strip_prefix(scheme) else {
            continue;
        };
        // `http.example.org` and `https-gateway.local` are host names, not schemes.
        if !rest.starts_with("://") && rest.starts_with([':', '/']) {
            return Err(AddressError::new(
                "host",
                format!(
                    "starts with a mistyped scheme{}; {EXAMPLE_ORIGIN}",
                    quote_input(host)
                ),
            ));
        }
    }
    Ok(())
}

/// Splits an `http://` or `https://` prefix off `host`, case-insensitively.
fn split_scheme(host: &str) -> Result<(Option<Scheme>, &str), AddressError> {
    let Some((scheme, rest)) = host.split_once("://") else {
        return Ok((None, host));
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => {
            return Err(AddressError::new(
                "host",
                format!("has scheme {other:?}; use http:// or https://"),
            ));
        }
    };
    Ok((Some(scheme), rest))
}

fn resolve_scheme(typed: Option<Scheme>, https: Option<bool>) -> Result<Scheme, AddressError> {
    match (typed, https) {
        (Some(Scheme::Https), Some(false)) => Err(AddressError::new(
            "https",
            "is off, but the host starts with https://; turn https on or type http://",
        )),
        (Some(Scheme::Http), Some(true)) => Err(AddressError::new(
            "https",
            "is on, but the host starts with http://; turn https off or type https://",
        )),
        (Some(scheme), _) => Ok(scheme),
        (None, Some(true)) => Ok(Scheme::Https),
        (None, _) => Ok(Scheme::Http),
    }
}

fn normalise_base_path(host_url: &Url, field: &str) -> Result<String, AddressError> {
    let field = field.trim();
    if field.contains(['?', '#']) {
        return Err(AddressError::new(
            "base_path",
            format!("{field:?} contains `?` or `#`; enter only the path, such as /jellyfin"),
        ));
    }
    if field.contains("://") {
        return Err(AddressError::new(
            "base_path",
            format!("{field:?} is a URL; enter only the path, such as /jellyfin"),
        ));
    }

    // Percent-encode the way a URL path is encoded, so the field and a path typed into the
    // host field compare equal.
    let mut url = host_url.clone();
    url.set_path(field);
    Ok(normalise_path(url.path()))
}

/// Drops empty segments, which come from doubled and trailing slashes, from an encoded path.
fn normalise_path(path: &str) -> String {
    let mut normalised = String::new();
    for segment in path.split('/').filter(|segment| !segment.is_empty()) {
        normalised.push('/');
        normalised.push_str(segment);
    }
    normalised
}

#[cfg(test)]
mod tests;
