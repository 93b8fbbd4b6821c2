//! `onesheet serve`: opens the store, builds the catalog, and runs the HTTP server until a
//! shutdown signal.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use onesheet_domain::SourceId;
use onesheet_server::accounts::{Accounts, CookieSecure, SessionPolicy};
use onesheet_server::auth::AdminToken;
use onesheet_server::devices::{DeviceConfig, DeviceService};
use onesheet_server::logs::LogBuffer;
use onesheet_server::security::{DisplayAccess, TrustedProxies};
use onesheet_server::tls::{RELOAD_POLL_INTERVAL, ServerTls};
use onesheet_server::{AppState, BasePath};
use onesheet_sources::demo::DemoSource;
use onesheet_sources::local::LocalFolderSource;
use onesheet_sources::now_playing::NowPlayingHub;
use onesheet_sources::registry::SourceRegistry;
use onesheet_sources::{Catalog, MediaSource};
use onesheet_store::{KeyOrigin, SecretKey, SqliteStore, Store};
use onesheet_upstream::{ClientDefaults, UpstreamClient};
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::config::Config;
use crate::housekeeping;
use onesheet_server::accounts::unix_now;

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the media folder is rescanned without any change event.
const PERIODIC_RESCAN: Duration = Duration::from_secs(300);
/// How often the watcher checks that the media folder is still the one it watches.
const FOLDER_IDENTITY_CHECK: Duration = Duration::from_secs(3);
/// How long to wait before trying again to watch a media folder that could not be watched.
const WATCH_RETRY: Duration = Duration::from_secs(30);

/// The local media folder's subfolders, created at start so a new user sees where files go.
const MEDIA_FOLDERS: [&str; 3] = ["posters", "backgrounds", "logos"];

/// Runs the server. `logs` is the logger's buffer of recent lines, for the admin log page.
pub async fn run(config: Config, logs: Arc<LogBuffer>) -> anyhow::Result<()> {
    let tls = start_tls(&config)?;
    let media_dir = config.media_dir();
    prepare_folders(
        &config.data_dir,
        &media_dir,
        &config.data_dir.join("catalog.json"),
    )?;

    let store = open_store(&config).await?;
    let settings = store
        .current_settings()
        .await
        .context("cannot read the display settings")?
        .map(|version| version.settings)
        .unwrap_or_default();

    let local_id = SourceId::new("local")?;
    let local = Arc::new(LocalFolderSource::new(local_id.clone(), media_dir.clone()));
    let demo = Arc::new(DemoSource::new(config.data_dir.join("demo"))?);
    let demo_id = demo.id().clone();
    let sources: Vec<Arc<dyn MediaSource>> = vec![local.clone(), demo];
    let catalog = Arc::new(
        Catalog::new(sources, config.data_dir.join("catalog.json"))
            .with_filter(settings.filter.compile()),
    );

    // Configured media servers join the catalog before the saved snapshot is restored, so
    // their saved items are served at once instead of waiting for their first refresh.
    let key = load_secret_key(&config)?;
    let registry = start_registry(store.clone(), key.clone(), catalog.clone()).await?;
    catalog.restore().await;
    catalog.set_image_limits(config.images.decode_limits());
    catalog.start_enrichment();

    // The first scan runs beside the server: a restored catalog is served meanwhile, and the
    // readiness probe reports 503 until one of the two is there. Media servers refresh on
    // their own schedules, so a slow one never delays readiness.
    let scanning = catalog.clone();
    let first_scan = [local_id.clone(), demo_id];
    tokio::spawn(async move { scanning.refresh_many(&first_scan).await });
    registry.start_schedules().await;
    watch_media_folder(local, catalog.clone(), local_id);

    housekeeping::start(store.clone(), config.audit_retention_days);

    let images = crate::images::start(&config).await;
    let state = AppState::new(
        catalog,
        store.clone(),
        settings,
        BasePath::new(&config.base_path)?,
    )
    .with_images(images.clone())
    .with_logs(logs.clone())
    .with_data_dir(&config.data_dir)
    .with_sources(registry.clone())
    .with_trusted_proxies(TrustedProxies::parse(&config.trusted_proxies)?)
    .with_display_access(display_access(&config)?)
    .with_cors_origins(
        config
            .cors_origins
            .iter()
            .filter_map(|origin| origin.parse().ok())
            .collect(),
    )
    .with_accounts(start_accounts(&config, store.clone(), key.clone()).await?);
    let devices = start_devices(&config, store.clone(), &state, &key)?;
    let state = state.with_devices(devices.clone());
    let state = match &config.admin_token {
        Some(token) => state.with_admin_token(AdminToken::new(token.expose().trim())),
        None => state,
    };
    // Validation has checked that force_https comes with an https public_url.
    if config.force_https && tls.is_some() {
        warn!(
            "force_https has no effect while Onesheet serves HTTPS itself: its one port speaks only TLS, so plain HTTP clients get a TLS error there, not a redirect"
        );
    }
    let state = match (&config.public_url, config.force_https) {
        (Some(public_url), true) => state.with_force_https(public_url),
        _ => state,
    };
    let state = match &config.public_url {
        Some(public_url) => state.with_public_url(public_url),
        None => state,
    };
    let listener = TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "cannot listen on {}: is another program using that port? Set listen (ONESHEET_LISTEN) to a free address",
            config.listen
        )
    })?;
    let address = listener.local_addr().unwrap_or(config.listen);
    let scheme = if tls.is_some() { "https" } else { "http" };
    info!(
        %address,
        base_path = %config.base_path,
        media_dir = %media_dir.display(),
        "Onesheet is listening: open {scheme}://{}{}/screensaver on a screen",
        display_host(address),
        config.base_path
    );

    serve_until_signal(
        listener,
        onesheet_server::router(state),
        tls,
        &logs,
        &devices,
    )
    .await?;
    registry.shutdown().await;
    devices.flush_presence().await;
    images.persist().await;
    store.close().await;
    info!("stopped");
    Ok(())
}

/// Builds the rule for who may use display routes, and logs a warning when that is everybody.
fn display_access(config: &Config) -> anyhow::Result<DisplayAccess> {
    let access = DisplayAccess::parse(&config.display_networks, config.public_displays)?;
    if access.is_public() {
        warn!(
            "public_displays is on: anyone who can reach this server can load display pages, the playlist and images"
        );
    } else if let Some(network) = access.open_network() {
        warn!(
            %network,
            "display_networks contains a range that covers every address, so display pages are public; list your screens' networks instead, or set public_displays = true to say so"
        );
    } else {
        info!(
            networks = ?config.display_networks,
            "display pages answer loopback and these networks; set display_networks or public_displays to change that"
        );
    }
    Ok(access)
}

/// Starts the device service and its background task, which writes presence in batches and
/// expires commands and pairing codes.
fn start_devices(
    config: &Config,
    store: Arc<dyn Store>,
    state: &AppState,
    key: &SecretKey,
) -> anyhow::Result<Arc<DeviceService>> {
    let auto_admit = onesheet_server::devices::parse_networks(&config.device_auto_admit)?;
    if !auto_admit.is_empty() {
        warn!(
            networks = ?config.device_auto_admit,
            "device_auto_admit is set: every screen on these networks becomes a device without a pairing code"
        );
    }
    let device_config = DeviceConfig {
        auto_admit,
        auto_recover_frozen: config.device_auto_recover_frozen,
        max_sockets: config.device_max_sockets,
        max_sockets_per_address: config.device_max_sockets_per_address,
        ..DeviceConfig::default()
    };
    let devices = Arc::new(DeviceService::new(
        store,
        state.settings.clone(),
        key,
        device_config,
    ));
    devices.start_background();
    Ok(devices)
}

/// Loads the HTTPS certificate and key when `[tls]` is set, and starts the task that reloads
/// them when a renewal replaces the files.
fn start_tls(config: &Config) -> anyhow::Result<Option<Arc<ServerTls>>> {
    let Some((cert_file, key_file)) = config.tls.files() else {
        return Ok(None);
    };
    let tls = ServerTls::load(cert_file, key_file).context(
        "cannot serve HTTPS: fix tls.cert_file and tls.key_file, or unset both to serve plain HTTP",
    )?;
    let tls = Arc::new(tls);
    info!(
        cert_file = %cert_file.display(),
        key_file = %key_file.display(),
        certificate.sha256 = %tls.certificate_sha256(),
        poll_seconds = RELOAD_POLL_INTERVAL.as_secs(),
        "serving HTTPS; the certificate reloads when its files change"
    );
    tls.spawn_reload(RELOAD_POLL_INTERVAL);
    Ok(Some(tls))
}

/// Loads the key that seals stored credentials and two-factor secrets.
fn load_secret_key(config: &Config) -> anyhow::Result<SecretKey> {
    let configured = config.secret_key.as_ref().map(|key| key.expose());
    let (key, origin) = SecretKey::load_or_generate(configured, &config.data_dir)
        .context("cannot load the secret key for stored credentials")?;
    if let KeyOrigin::Generated(path) = &origin {
        warn!(path = %path.display(), "no secret_key configured: generated one; losing this file makes stored source credentials and two-factor secrets unreadable");
    }
    Ok(key)
}

/// Starts admin accounts and, while no admin exists, opens setup with a fresh token.
async fn start_accounts(
    config: &Config,
    store: Arc<dyn Store>,
    key: SecretKey,
) -> anyhow::Result<Arc<Accounts>> {
    let policy = SessionPolicy {
        cookie_secure: match config.cookie_secure {
            crate::config::CookieSecure::Auto => CookieSecure::Auto,
            crate::config::CookieSecure::Always => CookieSecure::Always,
            crate::config::CookieSecure::Never => CookieSecure::Never,
        },
        cookie_path: if config.base_path.is_empty() {
            "/".to_owned()
        } else {
            config.base_path.clone()
        },
        ..SessionPolicy::default()
    };
    let accounts = Accounts::new(store, key, &config.data_dir, policy);
    accounts
        .open_setup()
        .await
        .context("cannot prepare first-run setup")?;
    Ok(Arc::new(accounts))
}

/// Starts the configured media-server sources.
async fn start_registry(
    store: Arc<dyn Store>,
    key: SecretKey,
    catalog: Arc<Catalog>,
) -> anyhow::Result<Arc<SourceRegistry>> {
    let client = UpstreamClient::new(ClientDefaults::default())
        .context("cannot build the HTTP client for media servers")?;
    let registry = SourceRegistry::new(store, key, client, catalog, Arc::new(NowPlayingHub::new()));
    registry
        .load_all()
        .await
        .context("cannot read the configured sources")?;
    Ok(registry)
}

/// Returns a host a person can type: `localhost` for the wildcard address, which is not
/// reachable as written.
fn display_host(address: SocketAddr) -> String {
    if address.ip().is_unspecified() {
        format!("localhost:{}", address.port())
    } else {
        address.to_string()
    }
}

/// Creates the data directory, and on a first start the media folders. Later starts leave a
/// missing media folder missing, because it usually means a share that is not mounted yet. The
/// local source then reports itself unavailable and keeps its saved items, where an empty folder
/// would wipe them from every screen.
fn prepare_folders(data_dir: &Path, media_dir: &Path, saved_catalog: &Path) -> anyhow::Result<()> {
    // Everything this process creates from here on is private to its user: the database, the
    // secret key, the setup token, cached images, and the folders holding them.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    std::fs::create_dir_all(data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}: check its permissions or set data_dir (ONESHEET_DATA_DIR)",
            data_dir.display()
        )
    })?;
    for shared in onesheet_server::data_files::shared_paths(data_dir) {
        warn!(
            path = %shared.path.display(),
            mode = %shared.mode,
            "other users can read this; it holds credentials and sessions: run chmod {} on it",
            shared.private_mode
        );
    }
    if saved_catalog.exists() {
        return Ok(());
    }
    for folder in MEDIA_FOLDERS {
        let path = media_dir.join(folder);
        if let Err(error) = std::fs::create_dir_all(&path) {
            // A read-only media share is fine; the source reports what it cannot read.
            warn!(path = %path.display(), %error, "cannot create a media folder");
        }
    }
    Ok(())
}

pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = match &config.database_url {
        None => SqliteStore::open(&config.default_database_file()).await?,
        Some(url) if url.expose().starts_with("sqlite:") => {
            SqliteStore::open_url(url.expose()).await?
        }
        Some(_) => anyhow::bail!(
            "unsupported database_url: this version supports sqlite: URLs only; unset database_url to use {}",
            config.default_database_file().display()
        ),
    };
    Ok(Arc::new(store))
}

/// Rescans the media folder after each burst of file changes, and every few minutes in any case
/// because network shares often send no change events. When the folder cannot be watched (it is
/// missing, or the system is out of inotify watches), the task retries and rescans periodically.
/// A watch follows the folder it was created on, so a folder that is replaced (deleted and made
/// again, or a share mounted over it) is detected by its inode and watched afresh.
fn watch_media_folder(local: Arc<LocalFolderSource>, catalog: Arc<Catalog>, local_id: SourceId) {
    tokio::spawn(async move {
        let mut warned = false;
        let mut first = true;
        loop {
            let identity = folder_identity(local.root());
            let mut watch = match local.watch() {
                Ok(watch) => watch,
                Err(error) => {
                    if !warned {
                        warn!(%error, retry_seconds = WATCH_RETRY.as_secs(), "cannot watch the media folder; retrying");
                        warned = true;
                    }
                    // A missing folder is checked often and cheaply, so it is picked up within
                    // seconds of reappearing. An existing one that cannot be watched (out of
                    // inotify watches) is rescanned at each slower retry instead.
                    tokio::time::sleep(FOLDER_IDENTITY_CHECK).await;
                    if folder_identity(local.root()).is_some() {
                        tokio::time::sleep(WATCH_RETRY.saturating_sub(FOLDER_IDENTITY_CHECK)).await;
                        catalog.refresh(&local_id, unix_now()).await;
                    }
                    continue;
                }
            };
            if warned {
                info!("watching the media folder again");
                warned = false;
            }
            // Files may have arrived while no watch was in place.
            if !first {
                catalog.refresh(&local_id, unix_now()).await;
            }
            first = false;

            let mut periodic = tokio::time::interval(PERIODIC_RESCAN);
            periodic.tick().await;
            let mut identity_check = tokio::time::interval(FOLDER_IDENTITY_CHECK);
            loop {
                tokio::select! {
                    changed = watch.changed() => {
                        if changed.is_none() {
                            break;
                        }
                    }
                    _ = periodic.tick() => {}
                    _ = identity_check.tick() => {
                        if folder_identity(local.root()) == identity {
                            continue;
                        }
                        info!("the media folder was replaced; watching the new one");
                        break;
                    }
                }
                catalog.refresh(&local_id, unix_now()).await;
            }
        }
    });
}

/// Device and inode of a folder, or `None` when it is missing.
fn folder_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;

    std::fs::metadata(path)
        .ok()
        .map(|metadata| (metadata.dev(), metadata.ino()))
}

async fn serve_until_signal(
    listener: TcpListener,
    app: axum::Router,
    tls: Option<Arc<ServerTls>>,
    logs: &LogBuffer,
    devices: &DeviceService,
) -> anyhow::Result<()> {
    let stop = async {
        let signal = shutdown_signal().await;
        // Live log and device event streams would otherwise hold the drain until its timeout.
        logs.close();
        devices.close_event_streams();
        info!(
            signal,
            drain_seconds = DRAIN_TIMEOUT.as_secs(),
            "shutting down: no new connections, finishing requests in flight"
        );
    };
    let max_connections = connection_budget();
    let draining =
        onesheet_server::listener::serve(listener, app, max_connections, tls, stop).await;

    tokio::select! {
        () = draining.finish() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            warn!("requests still running after the drain timeout were cut off");
        }
        signal = shutdown_signal() => {
            warn!(signal, "second signal: stopping without waiting for requests in flight");
        }
    }
    Ok(())
}

/// Raises the open-file limit to its hard maximum (often 1024 soft against 524288 hard under
/// systemd) and returns how many connections fit below it, keeping 256 descriptors for the
/// database, media files and the watcher.
fn connection_budget() -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};

    const RESERVED: u64 = 256;
    const MAX_CONNECTIONS: u64 = 4096;
    let limit = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(error) => {
                warn!(%error, soft, hard, "cannot raise the open-file limit");
                soft
            }
        },
        Ok((soft, _)) => soft,
        Err(error) => {
            warn!(%error, "cannot read the open-file limit; assuming 1024");
            1024
        }
    };
    let budget = limit.saturating_sub(RESERVED).clamp(64, MAX_CONNECTIONS);
    info!(
        open_file_limit = limit,
        max_connections = budget,
        "connection limit set"
    );
    usize::try_from(budget).unwrap_or(64)
}

/// Resolves with the name of the next SIGINT or SIGTERM.
async fn shutdown_signal() -> &'static str {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = interrupt => "SIGINT",
        () = terminate => "SIGTERM",
    }
}
