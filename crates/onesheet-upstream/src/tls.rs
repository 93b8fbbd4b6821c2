//! reqwest clients with rustls on the ring crypto provider, and the per-source TLS options.
//!
//! reqwest is built with `rustls-no-provider`, because its default provider, aws-lc-rs,
//! compiles a large C library. In exchange, reqwest takes the process-wide default
//! provider and panics when none is installed, so [`install_crypto_provider`] runs before
//! every client this crate builds. Any other code in the same process that builds a plain
//! `reqwest::Client` must call it first as well, because Cargo turns on the same reqwest
//! features for every crate in the build.
//!
//! Server certificates are checked with the operating system's trust store through
//! rustls-platform-verifier, plus a source's own CA file when it has one.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::redirect;

use crate::UpstreamError;

/// TLS settings of one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file with extra CA certificates to trust, for a server with a certificate from a
    /// private CA. The operating system's CAs stay trusted.
    pub ca_file: Option<PathBuf>,
    /// Whether to verify the server's certificate. `false` accepts any certificate, so anyone
    /// on the network path can read the source's credentials. It is meant for servers with
    /// self-signed certificates on a trusted network.
    pub verify: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self {
            ca_file: None,
            verify: true,
        }
    }
}

impl TlsOptions {
    /// Returns true when the options differ from the defaults, which the shared client serves.
    pub(crate) fn is_custom(&self) -> bool {
        self.ca_file.is_some() || !self.verify
    }
}

/// Installs ring as the process-wide rustls crypto provider, unless a provider is installed
/// already. Calling it again does nothing.
pub fn install_crypto_provider() {
    // NOTE: rustls 0.23.48 deprecates the ring provider because it has no post-quantum key
    // exchange (X25519MLKEM768). Connections still use X25519; switching to aws-lc-rs would
    // add it, at the cost of building aws-lc's C code.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    // `Err` means another provider was installed first, which reqwest then uses: fine too.
    let _ = provider.install_default();
}

/// Settings shared by every reqwest client the crate builds.
pub(crate) struct HttpSettings<'a> {
    pub connect_timeout: Duration,
    pub user_agent: &'a str,
}

/// Builds a reqwest client: no redirects, no proxy from the environment, keep-alive pooling.
pub(crate) fn build_http_client(
    settings: &HttpSettings<'_>,
    tls: &TlsOptions,
) -> Result<reqwest::Client, UpstreamError> {
    install_crypto_provider();

    let mut builder = reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .user_agent(settings.user_agent)
        // A redirect could lead to another host, carrying the credentials along, so a 3xx
        // is returned to the caller as an error instead.
        .redirect(redirect::Policy::none())
        // Without this, reqwest sends requests through the proxy named in HTTP_PROXY,
        // HTTPS_PROXY or ALL_PROXY, and with them the source's credentials, even to a server
        // on the local network.
        .no_proxy()
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_keepalive(Duration::from_secs(60));

    if let Some(path) = &tls.ca_file {
        builder = builder.tls_certs_merge(read_ca_file(path)?);
    }
    if !tls.verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }

    builder.build().map_err(|error| UpstreamError::ClientSetup {
        detail: crate::transport::innermost_message(&error),
    })
}

/// Maximum size of a CA file in bytes. A PEM certificate takes about 1 to 2 KiB, so 1 MiB has
/// room for several hundred, far more than a private CA needs.
const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// Reads the PEM certificates of a source's CA file.
///
/// The path comes from the admin API and is read again at every start, so it is checked before
/// it is read. Only a regular file passes: a FIFO would block the read until a writer appears,
/// and a device such as `/dev/zero` never ends. The size is checked on the metadata and again
/// while reading, because the file may grow in between.
fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, UpstreamError> {
    let ca_error = |detail: String| UpstreamError::CaFile {
        path: path.to_owned(),
        detail,
    };
    let read_error = |error: std::io::Error| {
        ca_error(format!(
            "{error}; check the path and that Onesheet may read the file"
        ))
    };

    // `metadata` follows symbolic links, so a link to a regular file is accepted.
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if let Some(problem) = file_type_problem(&metadata.file_type()) {
        return Err(ca_error(format!(
            "{problem}; the CA file must be a regular file with PEM certificates"
        )));
    }
    if metadata.len() > MAX_CA_FILE_BYTES {
        return Err(ca_error(too_large_text(&format!(
            "is {} bytes",
            metadata.len()
        ))));
    }

    // NOTE: a FIFO put in the file's place between the check above and this `open` still
    // blocks here. Only someone who may write to the CA file's directory can do that.
    let file = std::fs::File::open(path).map_err(read_error)?;
    let Some(pem) = read_at_most(file, MAX_CA_FILE_BYTES).map_err(read_error)? else {
        return Err(ca_error(too_large_text("grew while it was read")));
    };

    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
        ca_error(format!(
            "{}; the file must contain PEM certificates",
            crate::transport::innermost_message(&error)
        ))
    })?;
    if certificates.is_empty() {
        return Err(ca_error(
            "contains no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned(),
        ));
    }
    Ok(certificates)
}

/// Names what a file is when it is not a regular file, or returns `None` for a regular file.
fn file_type_problem(file_type: &std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("is a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;

        if file_type.is_fifo() {
            return Some("is a FIFO (named pipe), not a regular file");
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some("is a device, not a regular file");
        }
        if file_type.is_socket() {
            return Some("is a socket, not a regular file");
        }
    }
    Some("is not a regular file")
}

fn too_large_text(what: &str) -> String {
    format!(
        "{what}, more than the limit of 1 MiB ({MAX_CA_FILE_BYTES} bytes); the CA file should contain only the CA certificates this source needs"
    )
}

/// Reads `reader` to its end, or returns `None` as soon as it yields more than `limit` bytes.
fn read_at_most(reader: impl Read, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut content = Vec::new();
    // One byte past the limit distinguishes a file of exactly `limit` bytes from a longer one.
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut content)?;
    if content.len() as u64 > limit {
        return Ok(None);
    }
    Ok(Some(content))
}

/// Describes a rustls error for an admin, naming the certificate problem and the fix.
pub(crate) fn describe_tls_error(error: &rustls::Error, host: &str) -> String {
    use rustls::CertificateError as Cert;

    let rustls::Error::InvalidCertificate(problem) = error else {
        return format!("{error}; check that the server speaks HTTPS on this port");
    };
    match problem {
        Cert::UnknownIssuer => "the certificate is signed by an unknown authority; set the source's CA file to the CA that signed it, or turn certificate verification off for this source".to_owned(),
        Cert::NotValidForName | Cert::NotValidForNameContext { .. } => format!(
            "the certificate is not valid for {host}; connect with a host name the certificate lists"
        ),
        Cert::Expired | Cert::ExpiredContext { .. } => {
            "the certificate has expired; renew it on the server".to_owned()
        }
        Cert::NotValidYet | Cert::NotValidYetContext { .. } => {
            "the certificate is not valid yet; check the clocks of this machine and the server".to_owned()
        }
        Cert::Revoked => "the certificate has been revoked".to_owned(),
        other => format!("invalid certificate: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn settings() -> HttpSettings<'static> {
        HttpSettings {
            connect_timeout: Duration::from_secs(1),
            user_agent: "Onesheet/test",
        }
    }

    /// reqwest adds a matcher for HTTP_PROXY, HTTPS_PROXY and ALL_PROXY to every client unless
    /// the builder calls `no_proxy`, and the client's `Debug` lists its matchers as `proxies`.
    /// An empty list means that no variable, whatever the environment contains, can send a
    /// request to a proxy. The environment itself cannot be set here, because
    /// `std::env::set_var` is unsafe and races with the other test threads.
    #[test]
    fn clients_take_no_proxy_from_environment() {
        install_crypto_provider();
        let reqwest_default = reqwest::Client::builder().build().unwrap();
        assert!(
            format!("{reqwest_default:?}").contains("proxies"),
            "reqwest's Debug output no longer lists proxies, so this test cannot see them: {reqwest_default:?}"
        );

        let verify_off = TlsOptions {
            ca_file: None,
            verify: false,
        };
        for tls in [TlsOptions::default(), verify_off] {
            let client = build_http_client(&settings(), &tls).unwrap();
            assert!(
                !format!("{client:?}").contains("proxies"),
                "{tls:?}: {client:?}"
            );
        }
    }

    #[test]
    fn bounded_read_stops_after_limit() {
        let endless = std::io::repeat(b'-');

        let read = read_at_most(endless, 16).unwrap();

        assert_eq!(read, None);
    }

    #[test]
    fn bounded_read_returns_content_up_to_limit() {
        let content = b"-----BEGIN CERTIFICATE-----".as_slice();

        assert_eq!(read_at_most(content, 27).unwrap().as_deref(), Some(content));
        assert_eq!(read_at_most(content, 26).unwrap(), None);
    }
}
