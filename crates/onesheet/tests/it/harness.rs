//! Runs the real `onesheet` binary for black-box tests.
//!
//! Each [`TestServer`] gets its own temporary directory holding the data directory and the
//! server's log, and listens on a free loopback port. [`TestServer::restart`] reuses the port
//! and the data directory, so a browser that lost the server can find it again at the same URL.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use tempfile::TempDir;

/// How long a started server may take to pass its readiness check.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopped server may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Lines of the server log printed when a test fails.
const LOG_TAIL_LINES: usize = 200;

/// Settings for one test server.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Path prefix the whole site is served under, such as `/posters` (`ONESHEET_BASE_PATH`).
    pub base_path: Option<String>,
    /// Number of generated JPEG posters written to `<data>/media/posters` before the start.
    /// With none, the server shows its built-in demo library.
    pub media_posters: usize,
    /// Extra environment variables for the server process.
    pub env: Vec<(String, String)>,
}

pub struct TestServer {
    options: ServerOptions,
    port: u16,
    /// Temporary directory with the data directory and the log, removed on drop.
    root: TempDir,
    child: Option<Child>,
    starts: u32,
    http: reqwest::Client,
}

impl TestServer {
    /// Starts the server on a free loopback port and waits until it is ready.
    pub async fn start(options: ServerOptions) -> TestServer {
        let mut server = TestServer::prepare(options);
        server.launch().await;
        server
    }

    /// Creates the data directory, with the generated posters, and picks the port without
    /// starting the server, so a test can add files first. [`TestServer::launch`] starts it.
    pub fn prepare(options: ServerOptions) -> TestServer {
        let root = tempfile::Builder::new()
            .prefix("onesheet-it-")
            .tempdir()
            .expect("create the temporary directory for the test server");
        std::fs::create_dir_all(root.path().join("data")).expect("create the data directory");
        if options.media_posters > 0 {
            write_media_posters(
                &root.path().join("data/media/posters"),
                options.media_posters,
            );
        }

        TestServer {
            options,
            port: free_port(),
            root,
            child: None,
            starts: 0,
            http: http_client(),
        }
    }

    /// Starts the server process and waits until it is ready.
    pub async fn launch(&mut self) {
        assert!(self.child.is_none(), "the test server is already running");
        self.spawn_and_wait().await;
    }

    /// Origin plus base path, without a trailing slash: `http://127.0.0.1:PORT/posters`.
    pub fn base_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}{}",
            self.port,
            self.options.base_path.as_deref().unwrap_or("")
        )
    }

    /// URL of a path under the base path; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Sends a GET request for a path under the base path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let url = self.url(path);
        self.http
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {url} failed: {error}\n{}", self.log_tail()))
    }

    /// Sends a GET request for a path taken as is, without the base path: for the absolute
    /// image URLs in API responses, or to check what lies outside the base path.
    pub async fn get_absolute(&self, path: &str) -> reqwest::Response {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        self.http
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {url} failed: {error}\n{}", self.log_tail()))
    }

    /// Sends SIGTERM and waits for the process to exit, killing it after [`STOP_TIMEOUT`].
    /// Returns the exit status, or None when the server was not running.
    pub async fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let pid = Pid::from_raw(i32::try_from(child.id()).expect("process id fits in i32"));
        if let Err(error) = signal::kill(pid, Signal::SIGTERM) {
            eprintln!("sending SIGTERM to the test server (pid {pid}) failed: {error}");
        }

        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok(None) => {
                    eprintln!(
                        "test server (pid {pid}) still running {} s after SIGTERM, killing it",
                        STOP_TIMEOUT.as_secs()
                    );
                    return kill_and_reap(&mut child);
                }
                Err(error) => panic!("waiting for the test server (pid {pid}) failed: {error}"),
            }
        }
    }

    /// Stops the server if it runs, then starts it again on the same port and data directory.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }

    /// Returns the last lines of the server's stdout and stderr, over all its starts.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_else(|error| {
            format!("(cannot read {}: {error})", self.log_path().display())
        });
        let lines: Vec<&str> = log.lines().collect();
        let start = lines.len().saturating_sub(LOG_TAIL_LINES);
        format!(
            "--- last {} lines of the server log {} ---\n{}",
            lines.len() - start,
            self.log_path().display(),
            lines[start..].join("\n")
        )
    }

    fn log_path(&self) -> PathBuf {
        self.root.path().join("server.log")
    }

    async fn spawn_and_wait(&mut self) {
        self.starts += 1;
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open the server log");
        writeln!(log, "--- start {} on port {} ---", self.starts, self.port)
            .expect("write to the server log");
        let child = self.command(&log).spawn().unwrap_or_else(|error| {
            panic!(
                "starting {} failed: {error}",
                env!("CARGO_BIN_EXE_onesheet")
            )
        });
        self.child = Some(child);
        self.wait_until_ready().await;
    }

    fn command(&self, log: &File) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_onesheet"));
        command.arg("serve").current_dir(self.root.path());

        // Settings of the developer's or CI's environment must not leak into the server: an
        // unknown ONESHEET_ key may even be rejected by its configuration check.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ONESHEET_") {
                command.env_remove(&key);
            }
        }
        command
            .env("ONESHEET_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("ONESHEET_DATA_DIR", self.data_dir())
            .env("ONESHEET_LOG__LEVEL", "info");
        if let Some(base_path) = &self.options.base_path {
            command.env("ONESHEET_BASE_PATH", base_path);
        }
        for (key, value) in &self.options.env {
            command.env(key, value);
        }

        let stdout = log.try_clone().expect("clone the server log handle");
        let stderr = log.try_clone().expect("clone the server log handle");
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr));
        command
    }

    /// Polls `{base}/health/ready` until it returns 200.
    async fn wait_until_ready(&mut self) {
        let url = self.url("/health/ready");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                panic!(
                    "test server exited before it was ready ({status})\n{}",
                    self.log_tail()
                );
            }
            let outcome = match self.http.get(&url).send().await {
                Ok(response) if response.status() == reqwest::StatusCode::OK => return,
                Ok(response) => format!("HTTP {}", response.status()),
                Err(error) => error.to_string(),
            };
            if Instant::now() >= deadline {
                panic!(
                    "test server not ready after {} s: last GET {url} gave {outcome}\n{}",
                    READY_TIMEOUT.as_secs(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child);
        }
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
    }
}

/// Kills the process and returns its exit status, or None when it cannot be read.
fn kill_and_reap(child: &mut Child) -> Option<ExitStatus> {
    // Killing fails only when the process has already exited, which is the goal anyway.
    let _ = child.kill();
    child.wait().ok()
}

/// Returns a loopback port that was free a moment ago. Another process may take it before the
/// server binds it, which is unlikely enough for tests.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("read the bound port").port()
}

/// Builds an HTTP client for loopback requests: no proxy, short timeouts.
pub fn http_client() -> reqwest::Client {
    // reqwest is built without a default TLS provider for the whole workspace, and panics
    // without one even for plain HTTP.
    onesheet_upstream::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("build the HTTP client")
}

/// Titles and years of the generated posters, in file name form `Title (Year).jpg`.
const POSTER_NAMES: [(&str, u16); 8] = [
    ("Harbor Lights", 1994),
    ("The Quiet Orbit", 2011),
    ("Paper Tigers", 1987),
    ("Northbound", 2003),
    ("Glass Garden", 2019),
    ("Midnight Ferry", 1976),
    ("Salt and Cedar", 2022),
    ("The Long Signal", 1999),
];

/// Writes `count` distinct 400×600 JPEG posters: a vertical gradient in its own hue with a
/// bright disc, so screenshots show which poster is on screen.
pub fn write_media_posters(dir: &Path, count: usize) {
    std::fs::create_dir_all(dir)
        .unwrap_or_else(|error| panic!("create {} failed: {error}", dir.display()));
    for index in 0..count {
        let (title, year) = POSTER_NAMES[index % POSTER_NAMES.len()];
        let name = if index < POSTER_NAMES.len() {
            format!("{title} ({year}).jpg")
        } else {
            format!("{title} {index} ({year}).jpg")
        };
        let path = dir.join(name);
        poster_image(index, count)
            .save(&path)
            .unwrap_or_else(|error| panic!("write {} failed: {error}", path.display()));
    }
}

fn poster_image(index: usize, count: usize) -> RgbImage {
    let (width, height) = (400u32, 600u32);
    let hue = index as f32 / count.max(1) as f32;
    let (red, green, blue) = hue_to_rgb(hue);
    let (disc_x, disc_y, radius) = (width as f32 * 0.5, height as f32 * 0.38, 110.0f32);
    RgbImage::from_fn(width, height, |x, y| {
        let shade = 0.35 + 0.65 * (1.0 - y as f32 / height as f32);
        let distance = ((x as f32 - disc_x).powi(2) + (y as f32 - disc_y).powi(2)).sqrt();
        if distance < radius {
            Rgb([245, 236, 214])
        } else {
            Rgb([
                (red * shade * 255.0) as u8,
                (green * shade * 255.0) as u8,
                (blue * shade * 255.0) as u8,
            ])
        }
    })
}

/// Converts a hue in [0, 1) at full saturation and value to RGB components in [0, 1].
fn hue_to_rgb(hue: f32) -> (f32, f32, f32) {
    let sector = (hue * 6.0).floor();
    let fraction = hue * 6.0 - sector;
    match sector as u32 % 6 {
        0 => (1.0, fraction, 0.0),
        1 => (1.0 - fraction, 1.0, 0.0),
        2 => (0.0, 1.0, fraction),
        3 => (0.0, 1.0 - fraction, 1.0),
        4 => (fraction, 0.0, 1.0),
        _ => (1.0, 0.0, 1.0 - fraction),
    }
}

/// Returns the workspace root, two levels above this crate's manifest.
pub fn workspace_dir() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

/// Returns `fallback` when that file exists, else the first file named `name` on `PATH`.
pub fn find_executable(name: &str, fallback: &str) -> Option<PathBuf> {
    let fallback = Path::new(fallback);
    if fallback.is_file() {
        return Some(fallback.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(OsStr::new(name)))
        .find(|candidate| candidate.is_file())
}

/// A small tmpfs mounted over a folder for the life of the value, to fill a disk on purpose.
pub struct TmpfsMount {
    path: PathBuf,
}

impl TmpfsMount {
    /// Mounts a tmpfs of `size` (such as `16k`) on `path`. Returns `None` with a printed reason
    /// when mounting is not permitted, unless `ONESHEET_REQUIRE_TMPFS=1`, which makes that a
    /// failure; `scripts/test` sets it because the suite runs as root there.
    pub fn new(path: &Path, size: &str) -> Option<TmpfsMount> {
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output();
        let failure = match output {
            Ok(output) if output.status.success() => {
                return Some(TmpfsMount {
                    path: path.to_path_buf(),
                });
            }
            Ok(output) => String::from_utf8_lossy(&output.stderr).into_owned(),
            Err(error) => error.to_string(),
        };
        assert!(
            std::env::var("ONESHEET_REQUIRE_TMPFS").as_deref() != Ok("1"),
            "cannot mount a tmpfs on {}: {failure}",
            path.display()
        );
        eprintln!("skipped: cannot mount a tmpfs ({failure}); run as root to test a full disk");
        None
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}
