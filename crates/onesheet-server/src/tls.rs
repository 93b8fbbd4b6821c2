//! Built-in HTTPS: the server certificate and key from PEM files, reloaded when they change.
//!
//! The rustls configuration sits in an [`ArcSwap`]. Each connection takes the configuration
//! that is current when it is accepted, so a reload changes the certificate for new
//! connections only and never interrupts one in progress.
//!
//! [`ServerTls::spawn_reload`] polls the two files' length, modification time and inode, which
//! catches a file rewritten in place, a new file renamed over the old one, and a swapped
//! symbolic link (certbot's `live/` folder, Kubernetes secret volumes). A change is loaded once
//! the stamps have stayed the same for one poll, because renewal tools write the certificate
//! and the key one after the other, and a poll between the two would see a mismatched pair.
//! A pair that still fails to load leaves the previous certificate serving, because a bad
//! renewal must never take the server down, and is tried again when either file changes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

/// How often the binary checks the certificate and key files for changes. A renewed
/// certificate is usually deployed days before the old one expires, so a few seconds of delay
/// cost nothing, and two `stat` calls per poll are cheap.
pub const RELOAD_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Maximum size of a PEM file read, in bytes. A certificate chain with its intermediates takes
/// a few KiB, and the cap stops a wrong path to a large file from filling memory.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// The only application protocol offered in ALPN, because the listener speaks HTTP/1.1 only.
const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// The file an error is about: the certificate chain or the private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFile {
    Certificate,
    Key,
}

impl std::fmt::Display for TlsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Certificate => "TLS certificate file",
            Self::Key => "TLS key file",
        })
    }
}

/// A certificate and key pair that cannot be loaded. Every variant names the file, and none
/// quotes the file's content, because the key file is secret.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the {file} {}: {error}; check the path and that Onesheet may read the file", path.display())]
    Read {
        file: TlsFile,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("invalid PEM in the {file} {}: {problem}", path.display())]
    Pem {
        file: TlsFile,
        path: PathBuf,
        problem: &'static str,
    },
    #[error("the TLS certificate file {} contains no certificate: expected a \"BEGIN CERTIFICATE\" block, the server's certificate first and its intermediates after it", path.display())]
    NoCertificate { path: PathBuf },
    #[error("the TLS key file {} contains no private key: expected a \"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\" block", path.display())]
    NoKey { path: PathBuf },
    #[error("the certificate in {} and the key in {} cannot be used together: {error}", cert_path.display(), key_path.display())]
    Unusable {
        cert_path: PathBuf,
        key_path: PathBuf,
        error: rustls::Error,
    },
}

/// The server's TLS configuration, loaded from a certificate file and a key file, and
/// replaced in place when they change.
pub struct ServerTls {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: ArcSwap<LoadedPair>,
    /// Stamps of the two files taken just before the first configuration was read.
    loaded_stamps: PairStamps,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Loads the certificate chain from `cert_path` and the private key from `key_path`, both
    /// PEM. The chain starts with the server's certificate, and the key may be PKCS#8, PKCS#1
    /// (RSA) or SEC1 (EC).
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Self, TlsError> {
        let stamps = PairStamps::read(cert_path, key_path);
        let loaded = LoadedPair::load(cert_path, key_path)?;
        Ok(Self {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            current: ArcSwap::from_pointee(loaded),
            loaded_stamps: stamps,
        })
    }

    /// Returns an acceptor with the current configuration, for one new connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.current.load().config.clone())
    }

    /// Returns the SHA-256 of the serving certificate in lowercase hex, the value `openssl x509
    /// -noout -fingerprint -sha256` prints without its colons.
    pub fn certificate_sha256(&self) -> String {
        self.current.load().leaf_sha256.clone()
    }

    /// Starts a task that checks the two files every `interval` and swaps in a new
    /// configuration when either changed and then stayed unchanged for one more `interval`.
    /// The task ends when the last [`Arc`] of `self` is dropped.
    pub fn spawn_reload(self: &Arc<Self>, interval: Duration) -> JoinHandle<()> {
        let tls = Arc::downgrade(self);
        let mut seen = Seen {
            attempted: self.loaded_stamps,
            last_poll: self.loaded_stamps,
        };
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick completes at once, and the files were just loaded.
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(current) = tls.upgrade() else {
                    return;
                };
                seen = poll_once(current, seen).await;
            }
        })
    }

    /// Reloads the pair when its stamps differ from the last attempt's and equal the last
    /// poll's, and updates `seen`. It does blocking file I/O, so it runs on a blocking thread.
    fn reload_if_changed(&self, seen: &mut Seen) -> Reload {
        let stamps = PairStamps::read(&self.cert_path, &self.key_path);
        let settled = stamps == seen.last_poll;
        seen.last_poll = stamps;
        if stamps == seen.attempted || !settled {
            return Reload::Unchanged;
        }
        // Recorded before reading, so a write that lands during the read changes the stamps
        // again and is picked up by a later poll.
        seen.attempted = stamps;
        match LoadedPair::load(&self.cert_path, &self.key_path) {
            Ok(loaded) => {
                self.current.store(Arc::new(loaded));
                Reload::Reloaded
            }
            Err(error) => Reload::Failed(error),
        }
    }
}

/// Runs one reload check off the async threads and logs its outcome. Returns the stamps to
/// compare the next poll with.
async fn poll_once(tls: Arc<ServerTls>, seen: Seen) -> Seen {
    let checking = tls.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let mut seen = seen;
        let outcome = checking.reload_if_changed(&mut seen);
        (seen, outcome)
    })
    .await;
    let (seen, outcome) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            warn!(%error, "checking the TLS certificate files failed");
            return seen;
        }
    };
    match outcome {
        Reload::Unchanged => {}
        Reload::Reloaded => info!(
            cert_file = %tls.cert_path.display(),
            key_file = %tls.key_path.display(),
            certificate.sha256 = %tls.certificate_sha256(),
            "reloaded the TLS certificate"
        ),
        Reload::Failed(error) => warn!(
            %error,
            certificate.sha256 = %tls.certificate_sha256(),
            "cannot reload the TLS certificate; still serving the previous one"
        ),
    }
    seen
}

/// The reload task's memory between polls.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// Stamps of the pair that was last loaded or tried.
    attempted: PairStamps,
    /// Stamps read by the previous poll.
    last_poll: PairStamps,
}

enum Reload {
    Unchanged,
    Reloaded,
    Failed(TlsError),
}

/// A configuration built from the two files, with the fingerprint of its certificate.
struct LoadedPair {
    config: Arc<ServerConfig>,
    leaf_sha256: String,
}

impl LoadedPair {
    /// Reads both files and builds the rustls configuration they describe.
    fn load(cert_path: &Path, key_path: &Path) -> Result<Self, TlsError> {
        let cert_pem = read_pem_file(TlsFile::Certificate, cert_path)?;
        let key_pem = read_pem_file(TlsFile::Key, key_path)?;

        // The iterator skips blocks of other kinds, so a file holding both the chain and the key
        // works for either setting.
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| pem_error(TlsFile::Certificate, cert_path, &error))?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate {
                path: cert_path.to_path_buf(),
            });
        }
        let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
            Ok(key) => key,
            Err(pem::Error::NoItemsFound) => {
                return Err(TlsError::NoKey {
                    path: key_path.to_path_buf(),
                });
            }
            Err(error) => return Err(pem_error(TlsFile::Key, key_path, &error)),
        };

        let leaf_sha256 = Sha256::digest(chain[0].as_ref())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let config = build_config(chain, key).map_err(|error| TlsError::Unusable {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            error,
        })?;
        Ok(Self {
            config: Arc::new(config),
            leaf_sha256,
        })
    }
}

/// Builds a configuration that offers HTTP/1.1 only in ALPN. rustls checks here that the key
/// belongs to the first certificate of the chain.
fn build_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, rustls::Error> {
    // Naming the provider keeps this working whichever rustls providers other crates enable:
    // with more than one compiled in, rustls has no process default to fall back on.
    // NOTE: rustls 0.23.48 deprecates ring because it has no post-quantum key exchange
    // (X25519MLKEM768). Connections still use X25519; aws-lc-rs would add it, at the cost of
    // building aws-lc's C code.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(config)
}

/// Reads a PEM file, accepting only a regular file of at most [`MAX_PEM_BYTES`]: opening a
/// FIFO would block until a writer appears, and a device such as `/dev/zero` never ends.
fn read_pem_file(file: TlsFile, path: &Path) -> Result<Vec<u8>, TlsError> {
    let read_error = |error: std::io::Error| TlsError::Read {
        file,
        path: path.to_path_buf(),
        error,
    };

    // `metadata` follows symbolic links, so a link to a regular file is accepted.
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if !metadata.is_file() {
        return Err(read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|opened| opened.take(MAX_PEM_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_PEM_BYTES} bytes"),
        )));
    }
    Ok(bytes)
}

/// Describes a PEM parse failure without quoting the file, because the key file is secret.
fn pem_error(file: TlsFile, path: &Path, error: &pem::Error) -> TlsError {
    let problem = match error {
        pem::Error::MissingSectionEnd { .. } => "a block has no END line",
        pem::Error::IllegalSectionStart { .. } => "a BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "a block contains invalid base64",
        pem::Error::SectionTooLarge => "a block is too large",
        _ => "the file cannot be parsed as PEM",
    };
    TlsError::Pem {
        file,
        path: path.to_path_buf(),
        problem,
    }
}

/// The metadata of one file that the reload task compares between polls. A changed length,
/// modification time or inode means the file was rewritten or replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl FileStamp {
    fn read(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;

        let metadata = std::fs::metadata(path).ok()?;
        Some(Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            inode: metadata.ino(),
        })
    }
}

/// Stamps of the certificate and the key file, with `None` for a file whose metadata cannot be
/// read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PairStamps {
    cert: Option<FileStamp>,
    key: Option<FileStamp>,
}

impl PairStamps {
    fn read(cert_path: &Path, key_path: &Path) -> Self {
        Self {
            cert: FileStamp::read(cert_path),
            key: FileStamp::read(key_path),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    /// Generates a self-signed certificate for 127.0.0.1 and returns it and its key as PEM.
    fn pair() -> (String, String) {
        let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        (generated.cert.pem(), generated.signing_key.serialize_pem())
    }

    /// Writes `contents` beside `path` and renames it over `path`, as renewal tools do.
    fn replace(path: &Path, contents: &str) {
        let staged = path.with_extension("new");
        std::fs::write(&staged, contents).unwrap();
        std::fs::rename(&staged, path).unwrap();
    }

    /// A certificate and key written to a temporary folder and loaded.
    struct Loaded {
        _dir: tempfile::TempDir,
        cert: PathBuf,
        key: PathBuf,
        cert_pem: String,
        tls: ServerTls,
    }

    fn loaded() -> Loaded {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let (cert_pem, key_pem) = pair();
        replace(&cert, &cert_pem);
        replace(&key, &key_pem);
        let tls = ServerTls::load(&cert, &key).unwrap();
        Loaded {
            _dir: dir,
            cert,
            key,
            cert_pem,
            tls,
        }
    }

    fn initial_seen(tls: &ServerTls) -> Seen {
        Seen {
            attempted: tls.loaded_stamps,
            last_poll: tls.loaded_stamps,
        }
    }

    #[test]
    fn reload_waits_for_both_files_to_settle() {
        let Loaded {
            _dir,
            cert,
            key,
            tls,
            ..
        } = loaded();
        let first = tls.certificate_sha256();
        let mut seen = initial_seen(&tls);

        assert!(matches!(
            tls.reload_if_changed(&mut seen),
            Reload::Unchanged
        ));

        // The new certificate arrives before its key: nothing is loaded while it is fresh.
        let (second_cert, second_key) = pair();
        replace(&cert, &second_cert);
        assert!(matches!(
            tls.reload_if_changed(&mut seen),
            Reload::Unchanged
        ));
        // Settled but mismatched: the attempt fails and the first certificate stays.
        assert!(matches!(
            tls.reload_if_changed(&mut seen),
            Reload::Failed(TlsError::Unusable { .. })
        ));
        assert_eq!(tls.certificate_sha256(), first);
        // The same failing pair is not tried, or warned about, again.
        assert!(matches!(
            tls.reload_if_changed(&mut seen),
            Reload::Unchanged
        ));

        replace(&key, &second_key);
        assert!(matches!(
            tls.reload_if_changed(&mut seen),
            Reload::Unchanged
        ));
        assert!(matches!(tls.reload_if_changed(&mut seen), Reload::Reloaded));
        assert_ne!(tls.certificate_sha256(), first);
    }

    #[test]
    fn missing_file_keeps_the_loaded_pair() {
        let Loaded { _dir, key, tls, .. } = loaded();
        let loaded = tls.certificate_sha256();
        let mut seen = initial_seen(&tls);

        std::fs::remove_file(&key).unwrap();
        tls.reload_if_changed(&mut seen);
        let outcome = tls.reload_if_changed(&mut seen);
        let Reload::Failed(error) = outcome else {
            panic!("a missing key file did not fail the reload");
        };
        assert!(
            error.to_string().contains(&key.display().to_string()),
            "{error}"
        );
        assert_eq!(tls.certificate_sha256(), loaded);
    }

    #[test]
    fn fingerprint_is_sha256_of_the_leaf() {
        let Loaded {
            _dir,
            cert_pem,
            tls,
            ..
        } = loaded();

        let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap();
        let expected: String = Sha256::digest(der.as_ref())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(tls.certificate_sha256(), expected);
        assert_eq!(expected.len(), 64);
    }
}
