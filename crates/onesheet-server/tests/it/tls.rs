//! Built-in HTTPS through the real listener on loopback, the certificate reload, and the
//! `force_https` redirect.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use onesheet_server::accounts::{Accounts, SessionPolicy};
use onesheet_server::listener::{self, ConnectionTls};
use onesheet_server::security::TrustedProxies;
use onesheet_server::tls::{ServerTls, TlsError};
use onesheet_store::{SecretKey, SqliteStore};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SerialNumber,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tracing_subscriber::fmt::MakeWriter;

use crate::support::TestApp;

const PUBLIC_URL: &str = "https://posters.example.com";
/// Poll interval of the reload task in these tests, where the binary uses 5 seconds.
const FAST_RELOAD: Duration = Duration::from_millis(100);
/// Maximum wait for a reload to show. It spans many polls, so a busy machine does not fail the
/// test.
const RELOAD_WAIT: Duration = Duration::from_secs(10);

/// A throwaway certificate authority that signs server certificates for 127.0.0.1.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// Signs a server certificate and returns the chain (leaf, then this CA) and key as PEM,
    /// with the leaf's DER.
    fn issue(&self, common_name: &str, serial: u64) -> IssuedPair {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.serial_number = Some(SerialNumber::from(serial));
        let leaf = params.signed_by(&key, &self.issuer).unwrap();
        IssuedPair {
            chain_pem: format!("{}{}", leaf.pem(), self.issuer.pem()),
            key_pem: key.serialize_pem(),
            leaf_der: leaf.der().to_vec(),
        }
    }
}

struct IssuedPair {
    chain_pem: String,
    key_pem: String,
    leaf_der: Vec<u8>,
}

/// The certificate and key files of one test, in a temp dir.
struct PairFiles {
    cert: PathBuf,
    key: PathBuf,
    _dir: tempfile::TempDir,
}

impl PairFiles {
    fn new(pair: &IssuedPair) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let files = Self {
            cert: dir.path().join("fullchain.pem"),
            key: dir.path().join("privkey.pem"),
            _dir: dir,
        };
        files.replace(pair);
        files
    }

    /// Replaces both files the way renewal tools do: each written beside its target and
    /// renamed over it.
    fn replace(&self, pair: &IssuedPair) {
        replace_file(&self.cert, pair.chain_pem.as_bytes());
        replace_file(&self.key, pair.key_pem.as_bytes());
    }
}

fn replace_file(path: &Path, contents: &[u8]) {
    let staged = path.with_extension("new");
    std::fs::write(&staged, contents).unwrap();
    std::fs::rename(&staged, path).unwrap();
}

/// The real listener serving `router` on 127.0.0.1, stopped when dropped.
struct RunningServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl RunningServer {
    async fn start(router: Router, tls: Option<Arc<ServerTls>>) -> Self {
        let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = socket.local_addr().unwrap();
        let task = tokio::spawn(async move {
            listener::serve(socket, router, 16, tls, std::future::pending()).await;
        });
        Self { address, task }
    }

    fn https(&self, path: &str) -> String {
        format!("https://{}{path}", self.address)
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A client that trusts only `ca_pem`, reports the server's certificate and follows no
/// redirect. Each client opens its own connections, so a new one gets the current certificate.
fn https_client(ca_pem: &str) -> reqwest::Client {
    onesheet_upstream::install_crypto_provider();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .tls_info(true)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Returns the DER of the certificate that a new connection to `url` is served.
async fn served_certificate(ca_pem: &str, url: &str) -> Vec<u8> {
    try_served_certificate(ca_pem, url).await.unwrap()
}

/// Returns the served certificate, or the error of a client that does not trust it.
async fn try_served_certificate(ca_pem: &str, url: &str) -> Result<Vec<u8>, reqwest::Error> {
    let response = https_client(ca_pem).get(url).send().await?;
    assert_eq!(response.status(), 200, "{url}");
    Ok(response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("no peer certificate")
        .to_vec())
}

/// Polls until a new connection is served `expected`, or fails after [`RELOAD_WAIT`]. A
/// client that trusts only the new certificate's CA fails until the reload, which counts as
/// not yet reloaded.
async fn wait_for_certificate(ca_pem: &str, url: &str, expected: &[u8]) {
    let started = Instant::now();
    loop {
        if let Ok(served) = try_served_certificate(ca_pem, url).await
            && served == expected
        {
            return;
        }
        assert!(
            started.elapsed() < RELOAD_WAIT,
            "the new certificate was not served within {RELOAD_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A log sink that keeps every line written to it.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLog {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Sends a raw HTTP/1.1 request over plain TCP, so the `Host` header is exactly the one given,
/// and returns the response head.
async fn raw_get(address: SocketAddr, path: &str, host: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("no response within 5 s")
        .unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    response
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Reads a header from a raw response head, by case-insensitive name.
fn raw_header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test]
async fn https_marks_requests_secure() {
    let ca = TestCa::new("Onesheet test CA");
    let pair = ca.issue("onesheet-https", 1);
    let files = PairFiles::new(&pair);
    let tls = Arc::new(ServerTls::load(&files.cert, &files.key).unwrap());

    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&data.path().join("accounts.db"))
            .await
            .unwrap(),
    );
    let accounts = Accounts::new(
        store,
        SecretKey::from_bytes(&[7; 32]),
        data.path(),
        SessionPolicy::default(),
    );
    let setup_token = accounts.open_setup().await.unwrap().unwrap();
    let app = TestApp::with_posters(1)
        .await
        .with_state(|state| state.with_accounts(Arc::new(accounts)));
    let server = RunningServer::start(app.router.clone(), Some(tls)).await;
    let client = https_client(&ca.pem());

    let health = client.get(server.https("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let served = health
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .unwrap();
    assert_eq!(served, pair.leaf_der.as_slice());

    let password = "lantern velvet orbit 42";
    let setup = client
        .post(server.https("/api/v1/setup"))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({ "setup_token": setup_token, "username": "admin", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status(), 201);

    let login = client
        .post(server.https("/api/v1/auth/login"))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({ "username": "admin", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("onesheet_session="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn certificate_reloads_for_new_connections() {
    let ca = TestCa::new("Onesheet test CA");
    let first = ca.issue("onesheet-first", 1);
    let files = PairFiles::new(&first);
    let tls = Arc::new(ServerTls::load(&files.cert, &files.key).unwrap());
    let reload = tls.spawn_reload(FAST_RELOAD);
    let app = TestApp::with_posters(1).await;
    let server = RunningServer::start(app.router.clone(), Some(tls.clone())).await;
    let url = server.https("/health");
    assert_eq!(served_certificate(&ca.pem(), &url).await, first.leaf_der);

    let log = CapturedLog::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let second = ca.issue("onesheet-second", 2);
    files.replace(&second);
    wait_for_certificate(&ca.pem(), &url, &second.leaf_der).await;
    assert!(
        log.text().contains("reloaded the TLS certificate"),
        "{}",
        log.text()
    );

    // A certificate file that is not PEM at all: the second certificate keeps serving.
    replace_file(&files.cert, b"this is not a certificate\n");
    let started = Instant::now();
    while !log.text().contains("cannot reload the TLS certificate") {
        assert!(
            started.elapsed() < RELOAD_WAIT,
            "no warning within {RELOAD_WAIT:?}: {}",
            log.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let warning = log.text();
    assert!(warning.contains("WARN"), "{warning}");
    assert!(
        warning.contains(&files.cert.display().to_string()),
        "{warning}"
    );
    assert_eq!(served_certificate(&ca.pem(), &url).await, second.leaf_der);

    // A pair from another CA is picked up once the garbage is replaced.
    let other_ca = TestCa::new("Onesheet second test CA");
    let third = other_ca.issue("onesheet-third", 3);
    files.replace(&third);
    wait_for_certificate(&other_ca.pem(), &url, &third.leaf_der).await;

    drop(server);
    drop(tls);
    // The reload task holds only a weak reference and ends with the last `ServerTls`.
    tokio::time::timeout(Duration::from_secs(5), reload)
        .await
        .expect("the reload task outlived its ServerTls")
        .unwrap();
}

#[tokio::test]
async fn silent_client_does_not_block_others() {
    let ca = TestCa::new("Onesheet test CA");
    let pair = ca.issue("onesheet-silent", 1);
    let files = PairFiles::new(&pair);
    let tls = Arc::new(ServerTls::load(&files.cert, &files.key).unwrap());
    let app = TestApp::with_posters(1).await;
    let server = RunningServer::start(app.router.clone(), Some(tls)).await;

    // Connections that never send a ClientHello, held open for the whole test.
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(server.address).await.unwrap());
    }

    let started = Instant::now();
    let response = https_client(&ca.pem())
        .get(server.https("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        started.elapsed() < listener::TLS_HANDSHAKE_TIMEOUT / 2,
        "the request waited {:?} behind silent connections",
        started.elapsed()
    );
    drop(silent);
}

#[tokio::test]
async fn load_errors_name_the_file() {
    let ca = TestCa::new("Onesheet test CA");
    let pair = ca.issue("onesheet-errors", 1);
    let files = PairFiles::new(&pair);
    let dir = files.cert.parent().unwrap().to_path_buf();

    let missing = dir.join("missing.pem");
    let error = ServerTls::load(&missing, &files.key).unwrap_err();
    assert!(matches!(error, TlsError::Read { .. }), "{error}");
    assert!(
        error.to_string().contains(&missing.display().to_string()),
        "{error}"
    );

    // Each file given the other's content: no certificate in one, no key in the other.
    let error = ServerTls::load(&files.key, &files.key).unwrap_err();
    assert!(matches!(error, TlsError::NoCertificate { .. }), "{error}");
    assert!(
        error.to_string().contains(&files.key.display().to_string()),
        "{error}"
    );
    let error = ServerTls::load(&files.cert, &files.cert).unwrap_err();
    assert!(matches!(error, TlsError::NoKey { .. }), "{error}");

    // The key of another certificate.
    let other = ca.issue("onesheet-other", 2);
    let other_key = dir.join("other-key.pem");
    std::fs::write(&other_key, &other.key_pem).unwrap();
    let error = ServerTls::load(&files.cert, &other_key).unwrap_err();
    assert!(matches!(error, TlsError::Unusable { .. }), "{error}");

    // A folder is not a regular file.
    let error = ServerTls::load(&dir, &files.key).unwrap_err();
    assert!(error.to_string().contains("not a regular file"), "{error}");

    // The key file's content never appears in an error.
    let broken_key = dir.join("broken-key.pem");
    let body = pair
        .key_pem
        .lines()
        .filter(|line| !line.starts_with("-----END"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&broken_key, &body).unwrap();
    let error = ServerTls::load(&files.cert, &broken_key).unwrap_err();
    assert!(matches!(error, TlsError::Pem { .. }), "{error}");
    let secret_line = pair.key_pem.lines().nth(1).unwrap();
    assert!(!error.to_string().contains(secret_line), "{error}");
}

async fn forcing_https(base_path: &str, public_url: &str) -> TestApp {
    let files = [("poster.jpg", crate::support::jpeg(20, 30))];
    TestApp::with_files(&files, base_path)
        .await
        .with_state(|state| {
            state
                .with_trusted_proxies(TrustedProxies::parse(&["10.0.0.2"]).unwrap())
                .with_force_https(public_url)
        })
}

const PROXY: &str = "10.0.0.2:5000";
const STRANGER: &str = "192.0.2.50:5000";

#[tokio::test]
async fn force_https_redirects_known_plain_http() {
    let app = forcing_https("", PUBLIC_URL).await;
    let uri = "/api/v1/playlist?limit=2&mode=posters";
    let expected = "https://posters.example.com/api/v1/playlist?limit=2&mode=posters";

    let direct = app.get_from(uri, STRANGER, &[]).await;
    assert_eq!(direct.status, 308);
    assert_eq!(direct.header("location"), expected);

    let forged = app
        .get_from(
            uri,
            STRANGER,
            &[
                ("host", "evil.example"),
                ("x-forwarded-host", "evil.example"),
            ],
        )
        .await;
    assert_eq!(forged.status, 308);
    assert_eq!(forged.header("location"), expected);

    let proxied_http = app
        .get_from(uri, PROXY, &[("x-forwarded-proto", "http")])
        .await;
    assert_eq!(proxied_http.status, 308);
    assert_eq!(proxied_http.header("location"), expected);

    // Only a trusted proxy may report the scheme.
    let spoofed = app
        .get_from(uri, STRANGER, &[("x-forwarded-proto", "https")])
        .await;
    assert_eq!(spoofed.status, 308);
    assert_eq!(spoofed.header("location"), expected);
}

#[tokio::test]
async fn force_https_leaves_https_and_unknown_schemes() {
    let app = forcing_https("", PUBLIC_URL).await;
    let uri = "/api/v1/playlist?limit=2";

    let proxied_https = app
        .get_from(uri, PROXY, &[("x-forwarded-proto", "https")])
        .await;
    assert_ne!(proxied_https.status, 308);
    assert!(!proxied_https.headers.contains_key("location"));

    // A trusted proxy that names no scheme may have terminated TLS itself.
    let unknown = app.get_from(uri, PROXY, &[]).await;
    assert_ne!(unknown.status, 308);
    assert!(!unknown.headers.contains_key("location"));

    let mut over_tls = Request::get(uri).body(Body::empty()).unwrap();
    let peer: SocketAddr = STRANGER.parse().unwrap();
    over_tls.extensions_mut().insert(ConnectInfo(peer));
    over_tls.extensions_mut().insert(ConnectionTls);
    let over_tls = app.send(over_tls).await;
    assert_ne!(over_tls.status, 308);
    assert_eq!(
        over_tls.header("strict-transport-security"),
        "max-age=31536000"
    );

    for probe in ["/health", "/health/ready"] {
        let response = app.get_from(probe, STRANGER, &[]).await;
        assert_ne!(response.status, 308, "{probe}");
        assert!(!response.headers.contains_key("location"), "{probe}");
    }
}

#[tokio::test]
async fn force_https_keeps_the_base_path_once() {
    let app = forcing_https("/posters", "https://example.com/posters").await;

    let page = app
        .get_from("/posters/api/v1/playlist?limit=1", STRANGER, &[])
        .await;
    assert_eq!(page.status, 308);
    assert_eq!(
        page.header("location"),
        "https://example.com/posters/api/v1/playlist?limit=1"
    );

    let health = app.get_from("/posters/health", STRANGER, &[]).await;
    assert_eq!(health.status, 200);
}

#[tokio::test]
async fn force_https_off_serves_plain_http() {
    let app = TestApp::with_posters(1).await;
    let response = app.get_from("/api/v1/playlist", STRANGER, &[]).await;
    assert_ne!(response.status, 308);
    assert!(!response.headers.contains_key("location"));
}

#[tokio::test]
async fn force_https_over_real_sockets() {
    let app = forcing_https("", PUBLIC_URL).await;

    // Plain HTTP straight from a client: the Host header plays no part in the target.
    let plain = RunningServer::start(app.router.clone(), None).await;
    let head = raw_get(plain.address, "/screensaver?theme=dark", "evil.example").await;
    assert!(head.starts_with("HTTP/1.1 308"), "{head}");
    assert_eq!(
        raw_header(&head, "location"),
        Some("https://posters.example.com/screensaver?theme=dark")
    );
    let probe = raw_get(plain.address, "/health", "evil.example").await;
    assert!(probe.starts_with("HTTP/1.1 200"), "{probe}");

    // The same app behind built-in TLS is never redirected.
    let ca = TestCa::new("Onesheet test CA");
    let pair = ca.issue("onesheet-force", 1);
    let files = PairFiles::new(&pair);
    let tls = Arc::new(ServerTls::load(&files.cert, &files.key).unwrap());
    let secure = RunningServer::start(app.router.clone(), Some(tls)).await;
    let response = https_client(&ca.pem())
        .get(secure.https("/api/v1/playlist?limit=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("location").is_none());
}
