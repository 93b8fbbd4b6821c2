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

fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, UpstreamError> {
    let ca_error = |detail: String| UpstreamError::CaFile {
        path: path.to_owned(),
        detail,
    };

    let pem = std::fs::read(path).map_err(|error| {
        ca_error(format!(
            "{error}; check the path and that Onesheet may read the file"
        ))
    })?;
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
