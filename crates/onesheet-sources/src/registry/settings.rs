//! The settings of a media-server source as the admin API accepts and shows them.
//!
//! A source is stored as an id, a kind, a name, a JSON settings document and a sealed
//! credential. This module owns the settings document: its fields, defaults and validation. A
//! credential is never part of it, so the document can be returned to the admin UI and written
//! to logs as it is.

use std::collections::BTreeMap;
use std::path::PathBuf;

use onesheet_domain::{
    CatalogFilter, CompiledFilter, FieldError, MediaItem, SourceId, ValidationErrors,
    bidi_control_message, find_bidi_control,
};
use onesheet_upstream::{ServerAddress, TlsOptions};
use serde::{Deserialize, Serialize};

/// Bounds of the refresh interval in minutes.
pub const REFRESH_MINUTES: std::ops::RangeInclusive<u32> = 5..=1440;
/// Bounds of a source's weight in the display order.
pub const WEIGHT: std::ops::RangeInclusive<f32> = 0.1..=10.0;
/// Bounds of the now-playing poll interval in seconds.
pub const POLL_SECONDS: std::ops::RangeInclusive<u32> = 2..=300;
/// Longest accepted credential. Plex tokens are 20 characters and Jellyfin keys 32; a
/// TVDB JWT is about 700. Anything much longer is a paste error.
pub const MAX_CREDENTIAL_CHARS: usize = 4096;
const MAX_NAME_CHARS: usize = 100;
const MAX_LIST_ENTRIES: usize = 200;
const MAX_ENTRY_CHARS: usize = 200;

/// The media-server software a source talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    Plex,
    Jellyfin,
    Emby,
}

impl ServerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plex => "plex",
            Self::Jellyfin => "jellyfin",
            Self::Emby => "emby",
        }
    }

    /// Returns the port the software listens on out of the box, used when the address names none.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Plex => 32400,
            Self::Jellyfin | Self::Emby => 8096,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "plex" => Some(Self::Plex),
            "jellyfin" => Some(Self::Jellyfin),
            "emby" => Some(Self::Emby),
            _ => None,
        }
    }
}

/// Non-secret settings of one media-server source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// The address as the user typed it: a host, `host:port`, or a whole URL with a path.
    pub host: String,
    /// A base path typed in its own field, such as `jellyfin` for `https://host/jellyfin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_path: Option<String>,
    /// The "use HTTPS" switch; `None` takes the scheme from `host`, or plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https: Option<bool>,
    /// Library ids to read (Plex section keys, Jellyfin `ItemId`s); empty reads every movie,
    /// show and music library.
    #[serde(default)]
    pub libraries: Vec<String>,
    /// Minutes between two refreshes of the source's items.
    #[serde(default = "default_refresh_minutes")]
    pub refresh_minutes: u32,
    #[serde(default)]
    pub tls: TlsSettings,
    #[serde(default)]
    pub now_playing: NowPlayingSettings,
    /// Filter that selects which of the source's items join the catalog.
    #[serde(default)]
    pub filter: CatalogFilter,
    /// Further filters for single libraries, by library name, applied on top of `filter`.
    #[serde(default)]
    pub library_filters: BTreeMap<String, CatalogFilter>,
    /// Share of the display order: 2.0 shows this source's items twice as often as those of a
    /// source with 1.0, whatever the library sizes.
    #[serde(default = "default_weight")]
    pub weight: f32,
}

fn default_weight() -> f32 {
    1.0
}

/// Libraries, filters and display-order weight of a running media-server source.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Library ids to read; empty reads every poster library.
    pub libraries: Vec<String>,
    pub filters: SourceFilters,
    pub weight: f32,
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            libraries: Vec::new(),
            filters: SourceFilters::default(),
            weight: 1.0,
        }
    }
}

impl Selection {
    pub fn from_settings(settings: &ServerSettings) -> Self {
        Self {
            libraries: settings.libraries.clone(),
            filters: SourceFilters::new(settings),
            weight: settings.weight,
        }
    }
}

/// A source's filters, compiled once when the source starts.
#[derive(Debug, Clone, Default)]
pub struct SourceFilters {
    source: CompiledFilter,
    libraries: Vec<(String, CompiledFilter)>,
}

impl SourceFilters {
    pub fn new(settings: &ServerSettings) -> Self {
        Self {
            source: settings.filter.compile(),
            libraries: settings
                .library_filters
                .iter()
                .map(|(name, filter)| (name.to_lowercase(), filter.compile()))
                .collect(),
        }
    }

    /// True when the item passes the source filter and its library's filter, if it has one.
    pub fn accepts(&self, item: &MediaItem, now_unix: i64) -> bool {
        if !self.source.matches(item, now_unix) {
            return false;
        }
        let Some(library) = item.library.as_deref() else {
            return true;
        };
        let library = library.to_lowercase();
        self.libraries
            .iter()
            .filter(|(name, _)| *name == library)
            .all(|(_, filter)| filter.matches(item, now_unix))
    }
}

/// Certificate checks for a server on HTTPS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file of a private CA that signed the server's certificate.
    pub ca_file: Option<PathBuf>,
    /// `false` accepts any certificate from this source alone. Shown as a warning in status.
    pub verify: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            ca_file: None,
            verify: true,
        }
    }
}

/// Selection of the server's playback sessions that drive now-playing displays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NowPlayingSettings {
    pub enabled: bool,
    /// Seconds between two polls of the server's sessions.
    pub poll_seconds: u32,
    /// User names whose sessions count; empty means everyone.
    pub users: Vec<String>,
    /// Player or device names whose sessions count; empty means every player.
    pub players: Vec<String>,
    /// Library names whose items count; empty means every library.
    pub libraries: Vec<String>,
}

impl Default for NowPlayingSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_seconds: 5,
            users: Vec::new(),
            players: Vec::new(),
            libraries: Vec::new(),
        }
    }
}

fn default_refresh_minutes() -> u32 {
    30
}

impl ServerSettings {
    /// Checks every field and returns the normalised server address. Errors name the field
    /// under `settings.`, as the admin API nests it.
    pub fn validate(&self, kind: ServerKind) -> Result<ServerAddress, ValidationErrors> {
        let mut errors = ValidationErrors::default();

        // The software's own port applies to a bare host on plain HTTP. A user who switches
        // HTTPS on for a bare host has a reverse proxy in front, which listens on 443.
        let default_port = match self.https {
            Some(true) => None,
            _ => Some(kind.default_port()),
        };
        let host = match kind {
            ServerKind::Jellyfin | ServerKind::Emby => web_app_root(&self.host),
            ServerKind::Plex => self.host.as_str(),
        };
        let address =
            ServerAddress::parse(host, self.base_path.as_deref(), self.https, default_port)
                .map_err(|error| errors.push(format!("settings.{}", error.field), error.message))
                .ok();

        if !REFRESH_MINUTES.contains(&self.refresh_minutes) {
            errors.push(
                "settings.refresh_minutes",
                format!(
                    "invalid refresh interval {}: use {} to {} minutes",
                    self.refresh_minutes,
                    REFRESH_MINUTES.start(),
                    REFRESH_MINUTES.end()
                ),
            );
        }
        if !POLL_SECONDS.contains(&self.now_playing.poll_seconds) {
            errors.push(
                "settings.now_playing.poll_seconds",
                format!(
                    "invalid poll interval {}: use {} to {} seconds",
                    self.now_playing.poll_seconds,
                    POLL_SECONDS.start(),
                    POLL_SECONDS.end()
                ),
            );
        }
        check_list(&mut errors, "settings.libraries", &self.libraries);
        check_list(
            &mut errors,
            "settings.now_playing.users",
            &self.now_playing.users,
        );
        check_list(
            &mut errors,
            "settings.now_playing.players",
            &self.now_playing.players,
        );
        check_list(
            &mut errors,
            "settings.now_playing.libraries",
            &self.now_playing.libraries,
        );
        if !WEIGHT.contains(&self.weight) {
            errors.push(
                "settings.weight",
                format!(
                    "invalid weight {}: use {} to {}",
                    self.weight,
                    WEIGHT.start(),
                    WEIGHT.end()
                ),
            );
        }
        check_filter(&mut errors, "settings.filter", &self.filter);
        if self.library_filters.len() > MAX_LIST_ENTRIES {
            errors.push(
                "settings.library_filters",
                format!("too many library filters: at most {MAX_LIST_ENTRIES}"),
            );
        }
        for (library, filter) in &self.library_filters {
            if library.trim().is_empty()
                || library.chars().count() > MAX_ENTRY_CHARS
                || library.chars().any(is_invisible)
            {
                errors.push(
                    "settings.library_filters",
                    format!(
                        "invalid library name: use 1 to {MAX_ENTRY_CHARS} printable characters"
                    ),
                );
                continue;
            }
            check_filter(
                &mut errors,
                &format!("settings.library_filters.{library}"),
                filter,
            );
        }
        if let Some(path) = &self.tls.ca_file
            && !path.is_absolute()
        {
            errors.push(
                "settings.tls.ca_file",
                format!(
                    "invalid CA file {}: use an absolute path to a PEM file",
                    path.display()
                ),
            );
        }

        errors.into_result()?;
        // A failed parse pushed its error above, so `address` is set whenever this is reached.
        address.ok_or_else(|| {
            ValidationErrors::from(FieldError::new("settings.host", "missing server address"))
        })
    }

    pub fn tls_options(&self) -> TlsOptions {
        TlsOptions {
            ca_file: self.tls.ca_file.clone(),
            verify: self.tls.verify,
        }
    }
}

/// Returns the server address inside a URL copied from the browser while the web app was open
/// (`https://host/jellyfin/web/#/home`, `http://host:8096/web/index.html`): the part before
/// `/web`. Other text comes back unchanged, so a base path that merely contains `web` stays.
fn web_app_root(host: &str) -> &str {
    let trimmed = host.trim();
    let without_fragment = trimmed.split('#').next().unwrap_or(trimmed);
    let without_page = without_fragment
        .strip_suffix("/index.html")
        .unwrap_or(without_fragment)
        .trim_end_matches('/');
    match without_page.strip_suffix("/web") {
        Some(root) if !root.is_empty() => root,
        _ => host,
    }
}

/// Adds a filter's errors under `prefix`.
fn check_filter(errors: &mut ValidationErrors, prefix: &str, filter: &CatalogFilter) {
    if let Err(filter_errors) = filter.validate() {
        for error in filter_errors.errors {
            errors.push(format!("{prefix}.{}", error.field), error.message);
        }
    }
}

fn check_list(errors: &mut ValidationErrors, field: &str, entries: &[String]) {
    if entries.len() > MAX_LIST_ENTRIES {
        errors.push(
            field,
            format!(
                "too many entries ({}): at most {MAX_LIST_ENTRIES}",
                entries.len()
            ),
        );
    }
    if let Some(entry) = entries.iter().find(|entry| {
        entry.trim().is_empty()
            || entry.chars().count() > MAX_ENTRY_CHARS
            || entry.chars().any(is_invisible)
    }) {
        errors.push(
            field,
            format!("invalid entry {entry:?}: use 1 to {MAX_ENTRY_CHARS} characters"),
        );
    }
}

/// True for control characters and the invisible formatting characters (such as the
/// right-to-left override U+202E) that can make a name display as something else.
fn is_invisible(ch: char) -> bool {
    ch.is_control()
        || matches!(
            ch,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// Checks a source's display name.
pub fn validate_name(name: &str, errors: &mut ValidationErrors) {
    if let Some(ch) = find_bidi_control(name) {
        errors.push("name", bidi_control_message("name", ch));
        return;
    }
    let length = name.trim().chars().count();
    if length == 0 || length > MAX_NAME_CHARS || name.chars().any(is_invisible) {
        errors.push(
            "name",
            format!("invalid name {name:?}: use 1 to {MAX_NAME_CHARS} printable characters"),
        );
    }
}

/// Checks a credential typed into the admin form.
pub fn validate_credential(credential: &str, errors: &mut ValidationErrors) {
    // Quotes and backslashes would end the quoted token in Jellyfin's Authorization header and let
    // a pasted value add parameters of its own. No token or API key contains them.
    let unusable = |c: char| c.is_control() || c.is_whitespace() || c == '"' || c == '\\';
    if credential.chars().count() > MAX_CREDENTIAL_CHARS || credential.chars().any(unusable) {
        errors.push(
            "credential",
            format!(
                "invalid credential: use at most {MAX_CREDENTIAL_CHARS} characters without spaces, quotes or backslashes"
            ),
        );
    }
}

/// Derives a source id from a name: lowercase ASCII letters and digits joined by single
/// hyphens, as [`SourceId`] accepts. Returns `None` when nothing usable remains (a name in
/// another script), and the caller then asks for an explicit id.
pub fn id_from_name(name: &str) -> Option<SourceId> {
    let mut slug = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    SourceId::new(slug).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn settings(host: &str) -> ServerSettings {
        serde_json::from_value(serde_json::json!({ "host": host })).unwrap()
    }

    #[test]
    fn defaults_fill_missing_fields() {
        let parsed = settings("media.example.org");
        assert_eq!(parsed.refresh_minutes, 30);
        assert!(parsed.tls.verify);
        assert!(parsed.now_playing.enabled);
        assert_eq!(parsed.now_playing.poll_seconds, 5);
    }

    #[test]
    fn address_forms_normalise_alike() {
        let full = settings("https://media.example.org/jellyfin/")
            .validate(ServerKind::Jellyfin)
            .unwrap();
        let mut split = settings("media.example.org");
        split.base_path = Some("jellyfin".to_owned());
        split.https = Some(true);
        let split = split.validate(ServerKind::Jellyfin).unwrap();
        assert_eq!(
            full.url("/System/Info/Public", &[]),
            split.url("/System/Info/Public", &[])
        );
        assert_eq!(
            full.url("/System/Info/Public", &[]).as_str(),
            "https://media.example.org/jellyfin/System/Info/Public"
        );
    }

    #[test]
    fn browser_url_of_web_app_is_trimmed() {
        for (pasted, expected) in [
            (
                "https://media.example.org/jellyfin/web/#/home.html",
                "https://media.example.org/jellyfin/System/Info/Public",
            ),
            (
                "http://media.example.org:8096/web/index.html",
                "http://media.example.org:8096/System/Info/Public",
            ),
            (
                "http://media.example.org:8096/web/",
                "http://media.example.org:8096/System/Info/Public",
            ),
            (
                "https://media.example.org/webstuff/",
                "https://media.example.org/webstuff/System/Info/Public",
            ),
        ] {
            let address = settings(pasted).validate(ServerKind::Jellyfin).unwrap();
            assert_eq!(
                address.url("/System/Info/Public", &[]).as_str(),
                expected,
                "{pasted}"
            );
        }
    }

    #[test]
    fn bare_host_takes_kind_port() {
        let address = settings("plex.lan").validate(ServerKind::Plex).unwrap();
        assert_eq!(address.port(), 32400);
    }

    #[test]
    fn contradiction_names_field() {
        let mut contradictory = settings("https://media.example.org");
        contradictory.https = Some(false);
        let errors = contradictory.validate(ServerKind::Jellyfin).unwrap_err();
        assert_eq!(errors.errors[0].field, "settings.https", "{errors}");
    }

    #[test]
    fn ranges_and_lists_are_checked() {
        let mut bad = settings("media.example.org");
        bad.refresh_minutes = 1;
        bad.now_playing.poll_seconds = 0;
        bad.libraries = vec![String::new()];
        bad.tls.ca_file = Some(PathBuf::from("ca.pem"));
        let errors = bad.validate(ServerKind::Emby).unwrap_err();
        let fields: Vec<&str> = errors.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "settings.refresh_minutes",
                "settings.now_playing.poll_seconds",
                "settings.libraries",
                "settings.tls.ca_file"
            ]
        );
    }

    #[test]
    fn filters_and_weight_are_checked() {
        let mut bad = settings("media.example.org");
        bad.weight = 0.0;
        bad.filter.min_rating = Some(11.0);
        bad.library_filters
            .insert("Kids".to_owned(), CatalogFilter::default());
        bad.library_filters.get_mut("Kids").unwrap().year_from = Some(2020);
        bad.library_filters.get_mut("Kids").unwrap().year_to = Some(2000);
        let errors = bad.validate(ServerKind::Jellyfin).unwrap_err();
        let fields: Vec<&str> = errors.errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"settings.weight"), "{fields:?}");
        assert!(
            fields.iter().any(|f| f.starts_with("settings.filter.")),
            "{fields:?}"
        );
        assert!(
            fields
                .iter()
                .any(|f| f.starts_with("settings.library_filters.Kids.")),
            "{fields:?}"
        );
    }

    #[test]
    fn library_filter_applies_to_its_library_only() {
        let mut with_filters = settings("media.example.org");
        let kids = CatalogFilter {
            content_rating_max: Some("PG".to_owned()),
            ..CatalogFilter::default()
        };
        with_filters.library_filters.insert("Kids".to_owned(), kids);
        let filters = SourceFilters::new(&with_filters);

        let item = |library: &str, rating: &str| MediaItem {
            library: Some(library.to_owned()),
            content_rating: Some(rating.to_owned()),
            ..MediaItem::default()
        };
        assert!(filters.accepts(&item("Kids", "G"), 0));
        assert!(!filters.accepts(&item("kids", "R"), 0));
        assert!(filters.accepts(&item("Movies", "R"), 0));
    }

    #[test]
    fn unknown_settings_field_is_rejected() {
        let parsed: Result<ServerSettings, _> =
            serde_json::from_value(serde_json::json!({ "host": "a", "hots": "b" }));
        assert!(parsed.unwrap_err().to_string().contains("hots"));
    }

    #[test]
    fn id_from_name_makes_slug() {
        assert_eq!(
            id_from_name("Living Room — Jellyfin!").unwrap().as_str(),
            "living-room-jellyfin"
        );
        assert!(id_from_name("千と千尋").is_none());
    }

    #[test]
    fn name_and_credential_checks() {
        let mut errors = ValidationErrors::default();
        validate_name("  ", &mut errors);
        validate_name("ok\nname", &mut errors);
        validate_credential("token\n", &mut errors);
        validate_credential(&"x".repeat(MAX_CREDENTIAL_CHARS + 1), &mut errors);
        assert_eq!(errors.errors.len(), 4);
        let mut fine = ValidationErrors::default();
        validate_name("Plex", &mut fine);
        validate_credential("abc123", &mut fine);
        assert!(fine.is_empty());
    }

    #[test]
    fn name_with_bidi_control_names_the_character() {
        for ch in ['\u{202E}', '\u{2067}', '\u{200F}', '\u{061C}'] {
            let mut errors = ValidationErrors::default();
            validate_name(&format!("Plex{ch}"), &mut errors);

            assert_eq!(errors.errors.len(), 1, "U+{:04X}", u32::from(ch));
            let message = &errors.errors[0].message;
            assert!(
                message.contains(&format!("U+{:04X}", u32::from(ch))),
                "{message}"
            );
        }
    }
}
