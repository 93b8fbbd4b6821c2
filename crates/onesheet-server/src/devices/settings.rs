//! Settings layering for devices: the merged document a screen receives, the check of a new
//! override against the layers below it, and the push of new settings to live screens.
//!
//! A screen's settings are the global settings, then its profile's overrides, then its group's,
//! then its own, merged by `onesheet_domain::settings::overrides::merge`. Whenever one of those
//! layers changes, the server recomputes the document for each live screen it applies to and
//! sends it as a `settings` message, within the request that made the change.
//!
//! The playlist route reads each paired screen's filter and filter rules from its merged
//! settings through [`DeviceService::screen_filter`], which caches them per device.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use onesheet_domain::settings::filter_rules::filter_at;
use onesheet_domain::settings::overrides::{merge, validate_override};
use onesheet_domain::settings::{FilterRule, TimeOfDay};
use onesheet_domain::{
    CatalogFilter, DeviceId, DeviceRecord, DisplaySettings, ServerMessage, SettingsOverride,
};
use tracing::{debug, warn};

use super::{DeviceError, DeviceService};

/// The devices a settings change applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsScope {
    /// The global settings changed: every device.
    All,
    Profile(i64),
    Group(i64),
    Device(DeviceId),
}

impl SettingsScope {
    fn covers(&self, record: &DeviceRecord) -> bool {
        match self {
            Self::All => true,
            Self::Profile(id) => record.profile_id == Some(*id),
            Self::Group(id) => record.group_id == Some(*id),
            Self::Device(id) => record.id == *id,
        }
    }
}

/// How long a device's filter settings are reused. A settings change clears them at once, so
/// this only bounds how long a write that raced a playlist request can leave an old filter.
const SCREEN_FILTER_TTL: Duration = Duration::from_secs(10);

/// The filter part of a device's merged settings: the layered filter and the filter rules.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenFilter {
    pub filter: CatalogFilter,
    pub rules: Vec<FilterRule>,
}

impl ScreenFilter {
    /// Returns the filter in force at `time`. Borrows `filter` while no rule is active.
    pub fn filter_at(&self, time: TimeOfDay) -> Cow<'_, CatalogFilter> {
        filter_at(&self.filter, &self.rules, time)
    }
}

/// Cached filter settings, by device.
pub(super) type ScreenFilterCache = Cache<DeviceId, Arc<ScreenFilter>>;

pub(super) fn screen_filter_cache() -> ScreenFilterCache {
    Cache::builder()
        .max_capacity(100_000)
        .time_to_live(SCREEN_FILTER_TTL)
        .build()
}

/// Profile and group overrides read during one push, so a hundred screens of one profile cost
/// one lookup.
#[derive(Default)]
struct LayerCache {
    profiles: HashMap<i64, Option<SettingsOverride>>,
    groups: HashMap<i64, Option<SettingsOverride>>,
}

impl DeviceService {
    /// Returns the settings the device receives: global, profile, group and its own overrides.
    /// A stored override that no longer merges (written by an older version, or by hand) is
    /// logged and the global settings are sent instead, so the screen still starts.
    pub(crate) async fn settings_for(&self, record: &DeviceRecord) -> DisplaySettings {
        self.settings_with_cache(record, &mut LayerCache::default())
            .await
    }

    /// Returns the merged settings of a device whose credential was already verified, for
    /// display requests that carry only the credential.
    pub(crate) async fn settings_for_id(
        &self,
        device_id: &DeviceId,
    ) -> Result<DisplaySettings, DeviceError> {
        let record = self
            .store
            .get_device(device_id)
            .await
            .map_err(DeviceError::Store)?
            .ok_or_else(|| DeviceError::DeviceNotFound(device_id.clone()))?;
        Ok(self.settings_for(&record).await)
    }

    /// Returns the filter and filter rules of the device's merged settings, cached for a few
    /// seconds so a fleet's playlist requests cost no store query each. None when the device
    /// is not found or cannot be read, and the screen then gets the global filter.
    pub async fn screen_filter(&self, device_id: &DeviceId) -> Option<Arc<ScreenFilter>> {
        if let Some(cached) = self.screen_filters.get(device_id) {
            return Some(cached);
        }
        let record = match self.store.get_device(device_id).await {
            Ok(Some(record)) => record,
            Ok(None) => return None,
            Err(error) => {
                warn!(%error, device.id = %device_id, "could not read a device for its filter; using the global filter");
                return None;
            }
        };
        let settings = self.settings_for(&record).await;
        let filter = Arc::new(ScreenFilter {
            filter: settings.filter,
            rules: settings.filter_rules,
        });
        self.screen_filters
            .insert(device_id.clone(), Arc::clone(&filter));
        Some(filter)
    }

    async fn settings_with_cache(
        &self,
        record: &DeviceRecord,
        cache: &mut LayerCache,
    ) -> DisplaySettings {
        let global = self.global.load().settings.clone();
        let profile = match record.profile_id {
            Some(id) => self.profile_overrides(id, cache).await,
            None => None,
        };
        let group = match record.group_id {
            Some(id) => self.group_overrides(id, cache).await,
            None => None,
        };
        let layers: Vec<&SettingsOverride> =
            [profile.as_ref(), group.as_ref(), Some(&record.overrides)]
                .into_iter()
                .flatten()
                .collect();

        match merge(&global, &layers) {
            Ok(settings) => settings,
            Err(errors) => {
                warn!(device.id = %record.id, %errors, "the device's settings layers do not merge; sending the global settings until its overrides are fixed");
                global
            }
        }
    }

    async fn profile_overrides(&self, id: i64, cache: &mut LayerCache) -> Option<SettingsOverride> {
        if let Some(cached) = cache.profiles.get(&id) {
            return cached.clone();
        }
        let overrides = match self.store.get_profile(id).await {
            Ok(profile) => profile.map(|profile| profile.overrides),
            Err(error) => {
                warn!(%error, profile.id = id, "could not read a device profile; leaving its overrides out");
                None
            }
        };
        cache.profiles.insert(id, overrides.clone());
        overrides
    }

    async fn group_overrides(&self, id: i64, cache: &mut LayerCache) -> Option<SettingsOverride> {
        if let Some(cached) = cache.groups.get(&id) {
            return cached.clone();
        }
        let overrides = match self.store.get_group(id).await {
            Ok(group) => group.map(|group| group.overrides),
            Err(error) => {
                warn!(%error, group.id = id, "could not read a device group; leaving its overrides out");
                None
            }
        };
        cache.groups.insert(id, overrides.clone());
        overrides
    }

    /// Checks an override document for a profile or group: each key and type, then the merge
    /// with the global settings. Errors name the dotted path of each bad setting.
    pub(crate) fn check_shared_override(
        &self,
        document: &serde_json::Value,
    ) -> Result<SettingsOverride, DeviceError> {
        let overrides = validate_override(document)?;
        let global = self.global.load();
        merge(&global.settings, &[&overrides])?;
        Ok(overrides)
    }

    /// Checks a device's own override document against the layers it will sit on: the global
    /// settings and the overrides of `profile_id` and `group_id`.
    pub(crate) async fn check_device_override(
        &self,
        document: &serde_json::Value,
        profile_id: Option<i64>,
        group_id: Option<i64>,
    ) -> Result<SettingsOverride, DeviceError> {
        let overrides = validate_override(document)?;
        let mut cache = LayerCache::default();
        let profile = match profile_id {
            Some(id) => self.profile_overrides(id, &mut cache).await,
            None => None,
        };
        let group = match group_id {
            Some(id) => self.group_overrides(id, &mut cache).await,
            None => None,
        };
        let layers: Vec<&SettingsOverride> = [profile.as_ref(), group.as_ref(), Some(&overrides)]
            .into_iter()
            .flatten()
            .collect();
        let global = self.global.load();
        merge(&global.settings, &layers)?;
        Ok(overrides)
    }

    /// Sends new merged settings to every live device in `scope`, wakes the polls of polling
    /// devices in it, and returns how many live devices got the settings.
    pub async fn push_settings(&self, scope: &SettingsScope) -> usize {
        // Any layer may have changed a filter, and this runs only on admin changes, so
        // clearing every device's cached filter costs little.
        self.screen_filters.invalidate_all();
        let mut cache = LayerCache::default();
        let mut pushed = 0;
        for device_id in self.hub.live_ids() {
            let record = match self.store.get_device(&device_id).await {
                Ok(Some(record)) if scope.covers(&record) => record,
                Ok(_) => continue,
                Err(error) => {
                    warn!(%error, device.id = %device_id, "could not read a live device to push its settings");
                    continue;
                }
            };
            let settings = self.settings_with_cache(&record, &mut cache).await;
            self.presence
                .set_interval(&device_id, settings.screensaver.interval_seconds);
            if self.hub.send(
                &device_id,
                ServerMessage::Settings {
                    settings: Box::new(settings),
                },
            ) {
                pushed += 1;
            }
        }

        // A polling device gets its settings with every poll, so waking its poll is enough.
        for device_id in self.hub.poller_ids() {
            match self.store.get_device(&device_id).await {
                Ok(Some(record)) if scope.covers(&record) => self.hub.wake_poller(&device_id),
                Ok(_) => {}
                Err(error) => {
                    warn!(%error, device.id = %device_id, "could not read a polling device to push its settings");
                }
            }
        }
        debug!(?scope, pushed, "settings pushed to live devices");
        pushed
    }

    /// Pushes the new global settings to every live device. Call it after saving new global
    /// settings and swapping them into the app state.
    pub async fn global_settings_changed(&self) -> usize {
        self.push_settings(&SettingsScope::All).await
    }
}
