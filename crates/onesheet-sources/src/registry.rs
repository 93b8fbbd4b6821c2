//! Media-server sources configured through the admin API: their settings, stored credentials,
//! refresh schedules and now-playing pollers.
//!
//! [`SourceRegistry`] is the service behind `/api/v1/admin/sources`. It validates input, seals
//! credentials with the secret key before they reach the store, builds the source, adds it to
//! the catalog and runs its schedule. Credentials leave it only towards the source itself: a
//! [`SourceView`] reports whether one is set, never what it is.

pub mod settings;

mod build;
mod schedule;
mod unavailable;

use std::collections::HashMap;
use std::sync::Arc;

use onesheet_domain::{SourceId, ValidationErrors};
use onesheet_store::{SecretError, SecretKey, Store, StoreError, StoredSource};
use onesheet_upstream::UpstreamClient;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tracing::{info, instrument, warn};

use crate::catalog::{Catalog, SourceHealth};
use crate::now_playing::NowPlayingHub;
use crate::source::{Library, MediaSource, ServerInfo, SourceError};

pub use settings::{ServerKind, ServerSettings};

use schedule::Schedules;

/// Request body of the admin API's create and update calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    /// Derived from the name when absent on create. On update it must be absent or equal the id
    /// in the path.
    #[serde(default)]
    pub id: Option<String>,
    pub kind: ServerKind,
    pub name: String,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The token or API key. On update, absent, empty or masked (`***`, `••••`) keeps the stored
    /// one, so a form that shows a placeholder can be saved without retyping it.
    #[serde(default)]
    pub credential: Option<String>,
    /// Removes the stored credential.
    #[serde(default)]
    pub clear_credential: bool,
    pub settings: ServerSettings,
}

/// A source as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceView {
    pub id: SourceId,
    pub kind: ServerKind,
    pub name: String,
    pub enabled: bool,
    /// Whether a credential is stored. The credential itself is never returned.
    pub credential_set: bool,
    pub settings: ServerSettings,
    pub created_at: i64,
    pub updated_at: i64,
    /// Refresh state from the catalog; absent for a disabled source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<SourceHealth>,
    /// Set when certificate checks are off for this source, which the UI shows as a warning.
    pub tls_verify_disabled: bool,
    /// The HTTP client's counters: requests, failures, retries, last error, breaker state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<onesheet_upstream::SourceStats>,
}

/// Outcome of a connection test: either the server and its libraries, or the reason.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub libraries: Vec<Library>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<TestError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestError {
    /// Stable machine code such as `source-auth-rejected` or `source-unreachable`.
    pub code: &'static str,
    pub message: String,
}

/// Whether an on-demand refresh started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshStart {
    Started,
    AlreadyRunning,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid source: {0}")]
    Invalid(ValidationErrors),
    #[error("source {id} not found")]
    NotFound { id: String },
    #[error("a source with id {id} already exists: choose another id or name")]
    Conflict { id: String },
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Source(#[from] SourceError),
}

impl From<StoreError> for RegistryError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { id, .. } => Self::Conflict { id },
            other => Self::Store(other),
        }
    }
}

impl From<ValidationErrors> for RegistryError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Invalid(errors)
    }
}

/// A configured source that is running: what the registry needs to stop or test it.
struct Running {
    source: Arc<dyn MediaSource>,
    settings: ServerSettings,
    tls_verify_disabled: bool,
}

pub struct SourceRegistry {
    store: Arc<dyn Store>,
    key: SecretKey,
    client: UpstreamClient,
    catalog: Arc<Catalog>,
    now_playing: Arc<NowPlayingHub>,
    running: Mutex<HashMap<SourceId, Running>>,
    schedules: Schedules,
    /// Held by create, update and delete, so that two changes of one source (a PUT racing a
    /// DELETE) cannot interleave between the store and the running sources.
    changes: Mutex<()>,
}

impl SourceRegistry {
    pub fn new(
        store: Arc<dyn Store>,
        key: SecretKey,
        client: UpstreamClient,
        catalog: Arc<Catalog>,
        now_playing: Arc<NowPlayingHub>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            key,
            client,
            schedules: Schedules::new(catalog.clone(), now_playing.clone()),
            catalog,
            now_playing,
            running: Mutex::new(HashMap::new()),
            changes: Mutex::new(()),
        })
    }

    pub fn now_playing(&self) -> &Arc<NowPlayingHub> {
        &self.now_playing
    }

    /// Builds every enabled stored source and adds it to the catalog, without refreshing yet.
    /// Call it before [`Catalog::restore`], so the restored items find their sources, then
    /// [`start_schedules`](Self::start_schedules).
    ///
    /// A source that cannot be built (a credential the key no longer opens, settings damaged
    /// by hand) is logged and skipped, so one bad row never keeps the others or the server
    /// from starting.
    #[instrument(skip_all)]
    pub async fn load_all(&self) -> Result<usize, RegistryError> {
        let stored = self.store.list_sources().await?;
        let mut loaded = 0;
        for source in stored.iter().filter(|source| source.enabled) {
            match self.register(source).await {
                Ok(()) => loaded += 1,
                Err(error) => {
                    warn!(source.id = %source.id, %error, "cannot start configured source; fix it in the admin API");
                    self.register_unavailable(source, &error).await;
                }
            }
        }
        info!(sources = loaded, "configured sources loaded");
        Ok(loaded)
    }

    /// Starts the refresh loops and now-playing pollers of every loaded source.
    pub async fn start_schedules(&self) {
        let running: Vec<(Arc<dyn MediaSource>, ServerSettings)> = self
            .running
            .lock()
            .await
            .values()
            .map(|running| (running.source.clone(), running.settings.clone()))
            .collect();
        for (source, settings) in running {
            self.schedules
                .start(source, settings.refresh_minutes, &settings.now_playing)
                .await;
        }
    }

    pub async fn list(&self) -> Result<Vec<SourceView>, RegistryError> {
        let stored = self.store.list_sources().await?;
        let mut views = Vec::with_capacity(stored.len());
        for source in &stored {
            // One damaged row must not hide the others; it can still be deleted by id.
            match self.view(source).await {
                Ok(view) => views.push(view),
                Err(error) => {
                    warn!(source.id = %source.id, %error, "stored source is damaged; left out of the list")
                }
            }
        }
        Ok(views)
    }

    pub async fn get(&self, id: &str) -> Result<SourceView, RegistryError> {
        let stored = self.load(id).await?;
        self.view(&stored).await
    }

    #[instrument(skip_all)]
    pub async fn create(
        &self,
        input: SourceInput,
        now_unix: i64,
    ) -> Result<SourceView, RegistryError> {
        let mut errors = ValidationErrors::default();
        let id = match &input.id {
            Some(id) => SourceId::new(id)
                .map_err(|error| errors.push("id", error.message))
                .ok(),
            None => settings::id_from_name(&input.name).or_else(|| {
                errors.push(
                    "id",
                    "cannot derive an id from the name: give an id of lowercase letters, digits and hyphens",
                );
                None
            }),
        };
        let credential = check_input(&input, &mut errors);
        let address = input.settings.validate(input.kind);
        if let Err(address_errors) = &address {
            errors.errors.extend(address_errors.errors.iter().cloned());
        }
        if let Some(id) = &id
            && RESERVED_IDS.contains(&id.as_str())
        {
            errors.push(
                "id",
                format!("id {id} belongs to a built-in source: give another id or name"),
            );
        }
        errors.into_result()?;
        let Some(id) = id else {
            return Err(RegistryError::Invalid(ValidationErrors::default()));
        };
        let _changes = self.changes.lock().await;

        let stored = StoredSource {
            id: id.to_string(),
            kind: input.kind.as_str().to_owned(),
            name: input.name.trim().to_owned(),
            settings: settings_json(&input.settings)?,
            credential: credential.map(|text| self.seal(&id, text)),
            enabled: input.enabled.unwrap_or(true),
            created_at: now_unix,
            updated_at: now_unix,
        };
        // Building checks what validation cannot, such as a CA file that cannot be read,
        // before anything is stored.
        self.build(&stored).map_err(as_settings_error)?;
        self.store.insert_source(&stored).await?;
        info!(source.id = %id, source.kind = input.kind.as_str(), "source created");

        if stored.enabled {
            self.start(&stored).await?;
        }
        self.view(&stored).await
    }

    #[instrument(skip_all, fields(source.id = id))]
    pub async fn update(
        &self,
        id: &str,
        input: SourceInput,
        now_unix: i64,
    ) -> Result<SourceView, RegistryError> {
        let _changes = self.changes.lock().await;
        let current = self.load(id).await?;
        let source_id = parse_stored_id(&current)?;

        let mut errors = ValidationErrors::default();
        if let Some(given) = &input.id
            && given != id
        {
            errors.push(
                "id",
                format!("cannot change the id of source {id}: create a new source instead"),
            );
        }
        let credential = check_input(&input, &mut errors);
        let address = input.settings.validate(input.kind);
        if let Err(address_errors) = &address {
            errors.errors.extend(address_errors.errors.iter().cloned());
        }
        // A stored credential goes only to the server it was entered for: another address or
        // kind of server must be given the credential again.
        if let Ok(address) = &address
            && credential.is_none()
            && !input.clear_credential
            && current.credential.is_some()
            && !same_server(&current, input.kind, address)
        {
            errors.push(
                "credential",
                "the server address or kind changed: enter the credential again, or set clear_credential",
            );
        } else if credential.is_none()
            && !input.clear_credential
            && current.credential.is_some()
            && let Some(change) = trust_change(&current, &input.settings.tls)
        {
            // Someone who can intercept the connection could otherwise collect the stored
            // credential after a change to the certificate checks.
            errors.push(
                "credential",
                format!("{change}: enter the credential again, or set clear_credential"),
            );
        }
        errors.into_result()?;

        let credential = match credential {
            Some(text) => Some(self.seal(&source_id, text)),
            None if input.clear_credential => None,
            // The stored credential stays as it is, sealed, without being opened.
            None => current.credential.clone(),
        };
        let updated = StoredSource {
            id: current.id.clone(),
            kind: input.kind.as_str().to_owned(),
            name: input.name.trim().to_owned(),
            settings: settings_json(&input.settings)?,
            credential,
            enabled: input.enabled.unwrap_or(current.enabled),
            created_at: current.created_at,
            updated_at: now_unix,
        };
        self.build(&updated).map_err(as_settings_error)?;
        if !self.store.update_source(&updated).await? {
            return Err(RegistryError::NotFound { id: id.to_owned() });
        }
        info!(source.kind = input.kind.as_str(), "source updated");

        if updated.enabled {
            self.start(&updated).await?;
        } else {
            self.stop(&source_id, true).await;
        }
        self.view(&updated).await
    }

    #[instrument(skip_all, fields(source.id = id))]
    pub async fn delete(&self, id: &str) -> Result<(), RegistryError> {
        let _changes = self.changes.lock().await;
        if !self.store.delete_source(id).await? {
            return Err(RegistryError::NotFound { id: id.to_owned() });
        }
        if let Ok(source_id) = SourceId::new(id) {
            self.stop(&source_id, true).await;
        }
        info!("source deleted");
        Ok(())
    }

    /// Tests the stored source's connection with its stored credential, whether or not it is
    /// enabled, and lists its libraries when the server accepts it.
    #[instrument(skip_all, fields(source.id = id))]
    pub async fn test(&self, id: &str) -> Result<TestReport, RegistryError> {
        let stored = self.load(id).await?;
        let source = match self.build(&stored) {
            Ok((source, _)) => source,
            Err(RegistryError::Source(error)) => return Ok(failed_test(&error)),
            Err(other) => return Err(other),
        };

        let checked = tokio::time::timeout(TEST_TIMEOUT, async {
            let server = source.test_connection().await?;
            let libraries = source.libraries().await?;
            Ok::<_, SourceError>((server, libraries))
        })
        .await;
        let (server, libraries) = match checked {
            Ok(Ok(found)) => found,
            Ok(Err(error)) => {
                info!(code = error.code(), %error, "connection test failed");
                return Ok(failed_test(&error));
            }
            Err(_) => {
                info!(
                    timeout_seconds = TEST_TIMEOUT.as_secs(),
                    "connection test timed out"
                );
                return Ok(TestReport {
                    ok: false,
                    server: None,
                    libraries: Vec::new(),
                    error: Some(TestError {
                        code: "source-timeout",
                        message: format!(
                            "the server did not answer within {} seconds; check that it is up and not overloaded",
                            TEST_TIMEOUT.as_secs()
                        ),
                    }),
                });
            }
        };
        Ok(TestReport {
            ok: true,
            server: Some(server),
            libraries,
            error: None,
        })
    }

    /// Starts a refresh of an enabled source in the background. Its progress shows in the
    /// source's status.
    pub async fn refresh(&self, id: &str) -> Result<RefreshStart, RegistryError> {
        let stored = self.load(id).await?;
        let source_id = parse_stored_id(&stored)?;
        if !stored.enabled || !self.running.lock().await.contains_key(&source_id) {
            let mut errors = ValidationErrors::default();
            errors.push(
                "enabled",
                format!("source {id} is disabled: enable it before refreshing"),
            );
            return Err(RegistryError::Invalid(errors));
        }
        Ok(self.schedules.refresh_now(&source_id))
    }

    /// Stops every schedule and poller, for shutdown.
    pub async fn shutdown(&self) {
        self.schedules.stop_all().await;
    }

    /// Builds a source, adds it to the catalog and starts its schedule.
    async fn start(&self, stored: &StoredSource) -> Result<(), RegistryError> {
        self.register(stored).await?;
        let settings = parse_settings(stored)?;
        let id = parse_stored_id(stored)?;
        let source = self.running.lock().await.get(&id).map(|r| r.source.clone());
        if let Some(source) = source {
            self.schedules
                .start(source, settings.refresh_minutes, &settings.now_playing)
                .await;
        }
        Ok(())
    }

    /// Stands in for a stored source that cannot be built, so its saved items stay on screen
    /// and its status shows why it fails instead of the source vanishing.
    async fn register_unavailable(&self, stored: &StoredSource, error: &RegistryError) {
        let Ok(id) = SourceId::new(&stored.id) else {
            return;
        };
        let kind = ServerKind::parse(&stored.kind).map_or("unknown", ServerKind::as_str);
        let source: Arc<dyn MediaSource> = Arc::new(unavailable::UnavailableSource::new(
            id.clone(),
            kind,
            error.to_string(),
        ));
        self.catalog.add_source(source.clone()).await;
        let settings = parse_settings(stored).ok();
        self.running.lock().await.insert(
            id,
            Running {
                source,
                settings: settings.unwrap_or_else(|| ServerSettings {
                    host: String::new(),
                    base_path: None,
                    https: None,
                    libraries: Vec::new(),
                    refresh_minutes: settings::REFRESH_MINUTES.end().to_owned(),
                    tls: settings::TlsSettings::default(),
                    now_playing: settings::NowPlayingSettings {
                        enabled: false,
                        ..settings::NowPlayingSettings::default()
                    },
                    filter: onesheet_domain::CatalogFilter::default(),
                    library_filters: std::collections::BTreeMap::new(),
                    weight: 1.0,
                }),
                tls_verify_disabled: false,
            },
        );
    }

    /// Builds a source and adds it to the catalog, replacing a running one with the same id.
    async fn register(&self, stored: &StoredSource) -> Result<(), RegistryError> {
        let (source, tls_verify_disabled) = self.build(stored)?;
        let settings: ServerSettings = parse_settings(stored)?;
        let id = source.id().clone();

        self.catalog.add_source(source.clone()).await;
        self.running.lock().await.insert(
            id,
            Running {
                source,
                settings,
                tls_verify_disabled,
            },
        );
        Ok(())
    }

    /// Stops a source's schedule and poller; with `remove_items`, its items leave the catalog.
    async fn stop(&self, id: &SourceId, remove_items: bool) {
        self.schedules.stop(id).await;
        self.running.lock().await.remove(id);
        self.now_playing.clear_source(id);
        if remove_items {
            self.catalog.remove_source(id).await;
        }
    }

    fn build(&self, stored: &StoredSource) -> Result<(Arc<dyn MediaSource>, bool), RegistryError> {
        let id = parse_stored_id(stored)?;
        let kind = ServerKind::parse(&stored.kind).ok_or_else(|| SourceError::Unavailable {
            source_id: id.clone(),
            reason: format!("unknown source kind {:?} in the database", stored.kind),
        })?;
        let settings = parse_settings(stored)?;
        let address = settings.validate(kind)?;

        let credential = match &stored.credential {
            Some(sealed) => {
                let plain = self
                    .key
                    .open(sealed, associated_data(&id).as_bytes())
                    .map_err(|error| SourceError::MissingCredential {
                        source_id: id.clone(),
                        reason: format!("{error}; enter the credential again"),
                    })?;
                Some(
                    String::from_utf8(plain).map_err(|_| SourceError::MissingCredential {
                        source_id: id.clone(),
                        reason: "the stored credential is not text; enter it again".to_owned(),
                    })?,
                )
            }
            None => None,
        };

        let source = build::build_source(build::BuildInput {
            id,
            kind,
            address,
            settings: &settings,
            credential,
            client: &self.client,
        })?;
        Ok((source, !settings.tls.verify))
    }

    async fn view(&self, stored: &StoredSource) -> Result<SourceView, RegistryError> {
        let id = parse_stored_id(stored)?;
        let settings = parse_settings(stored)?;
        let kind = ServerKind::parse(&stored.kind).ok_or_else(|| SourceError::Unavailable {
            source_id: id.clone(),
            reason: format!("unknown source kind {:?} in the database", stored.kind),
        })?;
        let running = self.running.lock().await;
        let status = running
            .get(&id)
            .and_then(|_| self.catalog.health().iter().find(|h| h.id == id).cloned());
        let tls_verify_disabled = running
            .get(&id)
            .map_or(!settings.tls.verify, |r| r.tls_verify_disabled);
        let client = running.get(&id).and_then(|r| r.source.client_stats());
        drop(running);

        Ok(SourceView {
            id,
            kind,
            name: stored.name.clone(),
            enabled: stored.enabled,
            credential_set: stored.credential.is_some(),
            settings,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
            status,
            tls_verify_disabled,
            client,
        })
    }

    async fn load(&self, id: &str) -> Result<StoredSource, RegistryError> {
        self.store
            .get_source(id)
            .await?
            .ok_or_else(|| RegistryError::NotFound { id: id.to_owned() })
    }

    fn seal(&self, id: &SourceId, credential: &str) -> Vec<u8> {
        self.key
            .seal(credential.as_bytes(), associated_data(id).as_bytes())
    }

    /// Returns the running source with this id, for tests and the now-playing API.
    pub async fn running_source(&self, id: &SourceId) -> Option<Arc<dyn MediaSource>> {
        self.running.lock().await.get(id).map(|r| r.source.clone())
    }
}

/// Ids of the built-in sources, which configured sources must not replace.
const RESERVED_IDS: [&str; 2] = ["local", "demo"];

/// Maximum duration of a connection test. The client alone may retry a slow server for minutes,
/// which is longer than an admin's browser or the server's idle timeout waits.
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// True when `stored` talks to the same kind of server at the same normalised address.
fn same_server(
    stored: &StoredSource,
    kind: ServerKind,
    address: &onesheet_upstream::ServerAddress,
) -> bool {
    let Some(stored_kind) = ServerKind::parse(&stored.kind) else {
        return false;
    };
    let Ok(settings) = serde_json::from_value::<ServerSettings>(stored.settings.clone()) else {
        return false;
    };
    stored_kind == kind
        && settings
            .validate(stored_kind)
            .is_ok_and(|old| old == *address)
}

/// Describes how `tls` changes the certificate checks of the stored source, or returns `None`
/// when they stay the same. Turning `verify` off and any change of `ca_file` both count,
/// because each changes which servers the stored credential could be sent to.
fn trust_change(stored: &StoredSource, tls: &settings::TlsSettings) -> Option<&'static str> {
    let Ok(old) = serde_json::from_value::<ServerSettings>(stored.settings.clone()) else {
        return Some("the stored TLS settings cannot be read");
    };
    if old.tls.verify && !tls.verify {
        Some("settings.tls.verify was turned off")
    } else if old.tls.ca_file != tls.ca_file {
        Some("settings.tls.ca_file changed")
    } else {
        None
    }
}

/// Reports a source that cannot be built from valid-looking settings (a CA file that cannot
/// be read, say) as an invalid `settings` field, since nothing has been stored yet.
fn as_settings_error(error: RegistryError) -> RegistryError {
    match error {
        RegistryError::Source(source_error) => {
            let field = match &source_error {
                SourceError::Upstream {
                    error: onesheet_upstream::UpstreamError::CaFile { .. },
                    ..
                } => "settings.tls.ca_file",
                _ => "settings",
            };
            let mut errors = ValidationErrors::default();
            errors.push(field, source_error.to_string());
            RegistryError::Invalid(errors)
        }
        other => other,
    }
}

/// Binds a sealed credential to its row, so a value copied into another source fails to open.
fn associated_data(id: &SourceId) -> String {
    format!("source:{id}")
}

/// Validates the fields shared by create and update and returns the credential to store, if
/// one was typed (masked placeholders and empty strings are not credentials).
fn check_input<'a>(input: &'a SourceInput, errors: &mut ValidationErrors) -> Option<&'a str> {
    settings::validate_name(&input.name, errors);
    let credential = input
        .credential
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty() && !is_mask(text));
    if let Some(text) = credential {
        settings::validate_credential(text, errors);
        if input.clear_credential {
            errors.push(
                "clear_credential",
                "cannot set and clear the credential at once: send one of the two",
            );
        }
    }
    credential
}

/// True for the placeholders forms show in place of a stored secret.
fn is_mask(text: &str) -> bool {
    text.chars().all(|ch| matches!(ch, '*' | '•' | '●'))
}

fn settings_json(settings: &ServerSettings) -> Result<serde_json::Value, RegistryError> {
    serde_json::to_value(settings).map_err(|error| {
        RegistryError::Store(StoreError::Corrupt {
            what: "source settings",
            error,
        })
    })
}

fn parse_settings(stored: &StoredSource) -> Result<ServerSettings, RegistryError> {
    serde_json::from_value(stored.settings.clone()).map_err(|error| {
        RegistryError::Store(StoreError::Corrupt {
            what: "source settings",
            error,
        })
    })
}

fn parse_stored_id(stored: &StoredSource) -> Result<SourceId, RegistryError> {
    SourceId::new(&stored.id).map_err(|error| {
        let mut errors = ValidationErrors::default();
        errors.push("id", error.message);
        RegistryError::Invalid(errors)
    })
}

fn failed_test(error: &SourceError) -> TestReport {
    TestReport {
        ok: false,
        server: None,
        libraries: Vec::new(),
        error: Some(TestError {
            code: error.code(),
            message: error.to_string(),
        }),
    }
}
