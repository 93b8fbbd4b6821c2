//! HTTPS for the fakes: a throwaway certificate authority made per server, and a server
//! certificate it signs for `localhost` and `127.0.0.1`.
//!
//! Clients that trust only the system roots must reject the fake; clients given the CA
//! certificate ([`FakeServer::ca_certificate_pem`](crate::FakeServer::ca_certificate_pem)) must
//! accept it.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("generating the test certificates failed: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("configuring the TLS server failed: {0}")]
    Config(#[from] rustls::Error),
}

/// A TLS acceptor and the PEM of the CA that signed its certificate.
pub(crate) struct TlsSetup {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) ca_pem: String,
}

pub(crate) fn generate() -> Result<TlsSetup, TlsError> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Onesheet fake server test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_certificate = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate()?;
    let mut server_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server_certificate = server_params.signed_by(&server_key, &issuer)?;

    // Naming the provider keeps this working whichever rustls providers other crates enable:
    // with more than one compiled in, rustls has no process default to fall back on.
    // rustls 0.23.48 deprecates ring for lacking post-quantum key exchange, which a loopback
    // test server does not need.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![
                server_certificate.der().clone(),
                ca_certificate.der().clone(),
            ],
            key,
        )?;

    Ok(TlsSetup {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_pem: ca_certificate.pem(),
    })
}
