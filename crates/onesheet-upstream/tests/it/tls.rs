//! HTTPS against a loopback server whose certificate comes from a throwaway CA.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::get;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use onesheet_upstream::{Request, ServerAddress, SourceOptions, TlsOptions, UpstreamError};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType,
};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::{fast_policy, source_for};

/// A TLS server and the PEM file of the CA that signed its certificate.
struct TlsServer {
    addr: SocketAddr,
    /// TCP connections accepted so far.
    connections: Arc<AtomicUsize>,
    ca_file: PathBuf,
    _dir: TempDir,
}

/// Starts an HTTPS server on 127.0.0.1 with a certificate for `names` (IP addresses become IP
/// SANs), signed by a new CA.
async fn start_tls_server(names: &[&str]) -> TlsServer {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Onesheet test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let mut server_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    for name in names {
        server_params
            .subject_alt_names
            .push(match name.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*name).try_into().unwrap()),
            });
    }
    let server_key = KeyPair::generate().unwrap();
    let server_cert = server_params.signed_by(&server_key, &ca).unwrap();

    onesheet_upstream::install_crypto_provider();
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![server_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let app = Router::new().route(
        "/System/Info",
        get(|| async { axum::Json(serde_json::json!({ "Version": "10.9" })) }),
    );
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let service = TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                // A client that rejects the certificate ends the handshake; nothing to serve.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });

    let dir = TempDir::new().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    TlsServer {
        addr,
        connections,
        ca_file,
        _dir: dir,
    }
}

fn https_address(addr: SocketAddr) -> ServerAddress {
    ServerAddress::parse(&format!("https://{addr}"), None, None, None).unwrap()
}

fn options(ca_file: Option<PathBuf>, verify: bool) -> SourceOptions {
    SourceOptions {
        tls: TlsOptions { ca_file, verify },
        policy: None,
    }
}

#[tokio::test]
async fn unknown_ca_is_tls_error() {
    let server = start_tls_server(&["127.0.0.1"]).await;
    let source = source_for(
        https_address(server.addr),
        fast_policy(),
        options(None, true),
    );

    let error = source
        .get(Request::json("test", "/System/Info"))
        .await
        .unwrap_err();

    assert!(matches!(error, UpstreamError::Tls { .. }), "{error:?}");
    assert_eq!(error.code(), "source-tls");
    assert!(error.to_string().contains("unknown authority"), "{error}");
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "a certificate problem is not retried"
    );
    assert!(!source.stats().tls_verify_disabled);
}

#[tokio::test]
async fn ca_file_makes_certificate_trusted() {
    let server = start_tls_server(&["127.0.0.1"]).await;
    let source = source_for(
        https_address(server.addr),
        fast_policy(),
        options(Some(server.ca_file.clone()), true),
    );

    let info: serde_json::Value = source
        .get_json(Request::json("test", "/System/Info"))
        .await
        .unwrap();

    assert_eq!(info["Version"], "10.9");
}

#[tokio::test]
async fn certificate_for_other_name_is_rejected() {
    let server = start_tls_server(&["media.example.org"]).await;
    let source = source_for(
        https_address(server.addr),
        fast_policy(),
        options(Some(server.ca_file.clone()), true),
    );

    let error = source
        .get(Request::json("test", "/System/Info"))
        .await
        .unwrap_err();

    assert!(matches!(error, UpstreamError::Tls { .. }), "{error:?}");
    assert!(
        error.to_string().contains("not valid for 127.0.0.1"),
        "{error}"
    );
}

#[tokio::test]
async fn verify_off_accepts_certificate_and_shows_in_stats() {
    let server = start_tls_server(&["127.0.0.1"]).await;
    let source = source_for(
        https_address(server.addr),
        fast_policy(),
        options(None, false),
    );

    let response = source
        .get(Request::json("test", "/System/Info"))
        .await
        .unwrap();

    assert_eq!(response.status, 200);
    assert!(source.stats().tls_verify_disabled);
}

#[tokio::test]
async fn missing_ca_file_names_path() {
    let client = crate::support::client();
    let path = PathBuf::from("/nonexistent/onesheet-test/ca.pem");

    let error = client
        .source(
            "test",
            "test",
            https_address("127.0.0.1:1".parse().unwrap()),
            options(Some(path), true),
        )
        .unwrap_err();

    assert!(matches!(error, UpstreamError::CaFile { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("/nonexistent/onesheet-test/ca.pem"),
        "{error}"
    );
}

#[tokio::test]
async fn ca_file_without_certificate_is_rejected() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, "not a certificate\n").unwrap();
    let client = crate::support::client();

    let error = client
        .source(
            "test",
            "test",
            https_address("127.0.0.1:1".parse().unwrap()),
            options(Some(path.clone()), true),
        )
        .unwrap_err();

    assert!(matches!(error, UpstreamError::CaFile { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("no PEM certificate"), "{message}");
}

/// Builds a source with `path` as its CA file and returns the error.
fn ca_file_error(path: &std::path::Path) -> UpstreamError {
    crate::support::client()
        .source(
            "test",
            "test",
            https_address("127.0.0.1:1".parse().unwrap()),
            options(Some(path.to_owned()), true),
        )
        .unwrap_err()
}

#[tokio::test]
async fn ca_file_that_is_directory_is_rejected() {
    let dir = TempDir::new().unwrap();

    let error = ca_file_error(dir.path());

    assert!(matches!(error, UpstreamError::CaFile { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("is a directory"), "{message}");
    assert!(message.contains("regular file"), "{message}");
}

#[cfg(unix)]
#[tokio::test]
async fn ca_file_that_is_device_is_rejected() {
    let path = std::path::Path::new("/dev/zero");

    let error = ca_file_error(path);

    assert!(matches!(error, UpstreamError::CaFile { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("/dev/zero"), "{message}");
    assert!(message.contains("not a regular file"), "{message}");
}

#[cfg(unix)]
#[tokio::test]
async fn ca_file_that_is_fifo_is_rejected() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("ca.pem");
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();

    // Opening a FIFO for reading blocks until a writer appears, so a client that opened it
    // would hang here instead of failing.
    let error = ca_file_error(&path);

    assert!(matches!(error, UpstreamError::CaFile { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("not a regular file"), "{message}");
}

#[tokio::test]
async fn ca_file_over_one_mebibyte_is_rejected() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, vec![b'#'; 1024 * 1024 + 1]).unwrap();

    let error = ca_file_error(&path);

    assert!(matches!(error, UpstreamError::CaFile { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("1048577 bytes"), "{message}");
    assert!(message.contains("1 MiB"), "{message}");
}

#[tokio::test]
async fn ca_file_of_one_mebibyte_is_read() {
    let server = start_tls_server(&["127.0.0.1"]).await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("bundle.pem");
    // PEM parsers skip lines outside BEGIN and END, so trailing blank lines keep it valid.
    let mut bundle = std::fs::read(&server.ca_file).unwrap();
    bundle.resize(1024 * 1024, b'\n');
    std::fs::write(&path, bundle).unwrap();
    let source = source_for(
        https_address(server.addr),
        fast_policy(),
        options(Some(path), true),
    );

    let info: serde_json::Value = source
        .get_json(Request::json("test", "/System/Info"))
        .await
        .unwrap();

    assert_eq!(info["Version"], "10.9");
}
