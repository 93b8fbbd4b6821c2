//! What every fake shares: the recorder, shutdown and HTTPS.

use std::sync::Arc;

use onesheet_fakes::{FakePlex, PlexConfig, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::client;

#[tokio::test]
async fn recorder_captures_headers_query_and_status() {
    let server = FakePlex::start(PlexConfig {
        token: "T".to_owned(),
        base_path: "/plex".to_owned(),
        ..PlexConfig::default()
    })
    .await
    .unwrap();

    client()
        .get(server.url("/library/sections?includeGuids=1&X-Plex-Token=T&title=Am%C3%A9lie"))
        .header("Accept", "application/json")
        .header("X-Plex-Client-Identifier", "onesheet-test")
        .send()
        .await
        .unwrap();

    let request = server.recorder().last().unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/plex/library/sections");
    assert_eq!(request.route, "/library/sections");
    assert_eq!(
        request.raw_query.as_deref(),
        Some("includeGuids=1&X-Plex-Token=T&title=Am%C3%A9lie")
    );
    assert_eq!(request.query_param("title"), Some("Amélie"));
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(
        request.header("X-Plex-Client-Identifier"),
        Some("onesheet-test")
    );
    assert_eq!(request.status.map(|status| status.as_u16()), Some(200));
    assert_eq!(server.recorder().matching("/library/**").len(), 1);
}

#[tokio::test]
async fn shutdown_closes_the_listener() {
    let server = FakePlex::start(PlexConfig::default()).await.unwrap();
    let address = server.address();
    assert!(TcpStream::connect(address).await.is_ok());

    server.shutdown().await;
    assert!(TcpStream::connect(address).await.is_err());
}

#[tokio::test]
async fn drop_stops_the_server() {
    let server = FakePlex::start(PlexConfig::default()).await.unwrap();
    let address = server.address();
    drop(server);

    // The server task stops on its own after the drop, so poll for a short while.
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(address).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        refused,
        "{address} still accepts connections after the drop"
    );
}

#[tokio::test]
async fn https_needs_the_test_ca() {
    let server = FakePlex::start(PlexConfig {
        transport: Transport::Https,
        ..PlexConfig::default()
    })
    .await
    .unwrap();
    assert!(server.base_url().starts_with("https://127.0.0.1:"));
    let ca_pem = server.ca_certificate_pem().unwrap().to_owned();

    let trusted = handshake(&server, Some(&ca_pem)).await;
    let response = trusted.expect("handshake with the test CA succeeds");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let untrusted = handshake(&server, None).await;
    let error = untrusted.expect_err("handshake without the test CA fails");
    assert!(error.contains("certificate"), "{error}");
}

/// Connects with rustls trusting only `ca_pem`, sends `GET /identity` and returns the response
/// text, or the handshake error.
async fn handshake(
    server: &onesheet_fakes::FakeServer,
    ca_pem: Option<&str>,
) -> Result<String, String> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(pem) = ca_pem {
        for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(certificate.unwrap()).unwrap();
        }
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));

    let tcp = TcpStream::connect(server.address()).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector
        .connect(name, tcp)
        .await
        .map_err(|error| error.to_string())?;
    tls.write_all(b"GET /identity HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.unwrap();
    Ok(response)
}
