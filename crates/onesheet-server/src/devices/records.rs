//! The admin's view of devices, profiles and groups: listing with presence, changes that push
//! new settings to live screens, revocation, deletion and merging.

use onesheet_domain::device::validate_label;
use onesheet_domain::{
    DeviceId, DeviceRecord, Group, GroupMode, Presence, Profile, ServerMessage, SettingsOverride,
};
use onesheet_store::{
    DeviceChanges, DeviceFilter, DeviceMerge, GroupChanges, NewGroup, NewProfile, ProfileChanges,
};
use serde::{Deserialize, Deserializer, Serialize};
use tracing::info;

use super::commands::CommandView;
use super::presence::Transport;
use super::settings::SettingsScope;
use super::{DeviceError, DeviceEvent, DeviceService};

/// Commands listed in a device's detail.
const DETAIL_COMMANDS: u32 = 50;

/// Query of the device list. Every condition that is set must match.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceListFilter {
    pub status: Option<Presence>,
    pub location: Option<String>,
    pub group: Option<i64>,
    pub profile: Option<i64>,
    /// Text that the name must contain, ignoring case.
    pub q: Option<String>,
}

/// A device with its derived presence.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    #[serde(flatten)]
    pub record: DeviceRecord,
    pub presence: Presence,
    /// Unix seconds of the last pong, message or poll, from memory or the store.
    pub last_heard_at: Option<i64>,
    /// The transport of the current connection, or `None` without a connection.
    pub transport: Option<Transport>,
    /// Whether the screen has shown one item for three of its intervals.
    pub frozen: bool,
}

/// Everything the device page shows.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceDetail {
    pub device: DeviceView,
    /// The latest commands in every state, newest first.
    pub commands: Vec<CommandView>,
    /// Other records with the same last address and user agent: probably this screen after it
    /// lost its storage and paired again.
    pub possible_duplicates: Vec<DeviceId>,
    pub possible_duplicate: bool,
}

/// Changes to a device. An absent field stays as it is, and `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceUpdate {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub location: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub profile_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    pub group_id: Option<Option<i64>>,
    /// The whole override document; `null` or `{}` clears it.
    #[serde(default, deserialize_with = "present")]
    pub overrides: Option<Option<serde_json::Value>>,
}

/// A new profile, or changes to one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    pub name: Option<String>,
    pub overrides: Option<serde_json::Value>,
}

/// A new group, or changes to one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    pub name: Option<String>,
    pub mode: Option<GroupMode>,
    pub overrides: Option<serde_json::Value>,
}

/// Tells an absent field (`None`) from one set to `null` (`Some(None)`).
fn present<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl DeviceService {
    fn view(&self, mut record: DeviceRecord) -> DeviceView {
        let live = self.presence.live_state(&record.id);
        // The status in memory is newer than the stored one until the next presence flush.
        if let Some(status) = live.as_ref().and_then(|live| live.status.clone()) {
            record.last_status = Some(status);
        }
        let connected = self.hub.is_live(&record.id);
        let last_heard_at = match (&live, record.last_seen_at) {
            (Some(live), Some(stored)) => Some(live.last_heard_at.max(stored)),
            (Some(live), None) => Some(live.last_heard_at),
            (None, stored) => stored,
        };
        let presence = Presence::derive(
            last_heard_at,
            connected,
            self.now(),
            &self.config.presence_windows,
        );
        // A polling device keeps no connection open between polls, but it is still reached by poll
        // while it is online, and the admin needs to see that transport.
        let transport = match &live {
            Some(live) if live.connected => Some(live.transport),
            Some(live)
                if live.transport == Transport::LongPoll && presence != Presence::Offline =>
            {
                Some(Transport::LongPoll)
            }
            _ => None,
        };
        DeviceView {
            frozen: live.is_some_and(|live| live.frozen && connected),
            record,
            presence,
            last_heard_at,
            transport,
        }
    }

    pub async fn list_devices(
        &self,
        filter: &DeviceListFilter,
    ) -> Result<Vec<DeviceView>, DeviceError> {
        let store_filter = DeviceFilter {
            location: filter.location.clone(),
            group_id: filter.group,
            profile_id: filter.profile,
            search: filter.q.clone(),
            include_merged: false,
        };
        let records = self
            .store
            .list_devices(&store_filter)
            .await
            .map_err(DeviceError::Store)?;
        Ok(records
            .into_iter()
            .map(|record| self.view(record))
            .filter(|view| filter.status.is_none_or(|status| view.presence == status))
            .collect())
    }

    /// Returns the device with its presence, as the list shows it.
    pub async fn device_view(&self, device_id: &DeviceId) -> Result<DeviceView, DeviceError> {
        Ok(self.view(self.record(device_id).await?))
    }

    async fn record(&self, device_id: &DeviceId) -> Result<DeviceRecord, DeviceError> {
        self.store
            .get_device(device_id)
            .await
            .map_err(DeviceError::Store)?
            .ok_or_else(|| DeviceError::DeviceNotFound(device_id.clone()))
    }

    pub async fn device_detail(&self, device_id: &DeviceId) -> Result<DeviceDetail, DeviceError> {
        let record = self.record(device_id).await?;
        let commands = self.list_commands(device_id, DETAIL_COMMANDS).await?;
        let possible_duplicates: Vec<DeviceId> = self
            .store
            .find_possible_duplicates(device_id)
            .await
            .map_err(DeviceError::Store)?
            .into_iter()
            .map(|duplicate| duplicate.id)
            .collect();
        Ok(DeviceDetail {
            device: self.view(record),
            commands,
            possible_duplicate: !possible_duplicates.is_empty(),
            possible_duplicates,
        })
    }

    /// Applies an admin's changes, checks new overrides against the layers they sit on, and
    /// pushes the new settings when the device is live.
    pub async fn update_device(
        &self,
        device_id: &DeviceId,
        update: &DeviceUpdate,
    ) -> Result<DeviceView, DeviceError> {
        self.forget_deals();
        let current = self.record(device_id).await?;
        let name = update
            .name
            .as_deref()
            .map(|name| validate_label("name", name))
            .transpose()?;
        let location = match &update.location {
            Some(Some(location)) if !location.trim().is_empty() => {
                Some(Some(validate_label("location", location)?))
            }
            Some(_) => Some(None),
            None => None,
        };

        let profile_id = update.profile_id.unwrap_or(current.profile_id);
        let group_id = update.group_id.unwrap_or(current.group_id);
        let overrides = match &update.overrides {
            Some(Some(document)) => Some(
                self.check_device_override(document, profile_id, group_id)
                    .await?,
            ),
            Some(None) => Some(SettingsOverride::default()),
            None => None,
        };
        if overrides.is_none() && (update.profile_id.is_some() || update.group_id.is_some()) {
            // The device's own overrides must still merge over its new profile and group.
            let document = serde_json::Value::Object(current.overrides.as_map().clone());
            self.check_device_override(&document, profile_id, group_id)
                .await?;
        }

        let changes = DeviceChanges {
            name,
            location,
            profile_id: update.profile_id,
            group_id: update.group_id,
            overrides,
        };
        let record = self
            .store
            .update_device(device_id, &changes)
            .await?
            .ok_or_else(|| DeviceError::DeviceNotFound(device_id.clone()))?;
        self.push_settings(&SettingsScope::Device(device_id.clone()))
            .await;
        self.events.changed(device_id);
        Ok(self.view(record))
    }

    /// Revokes the device and closes its socket with `revoked`. Returns false when it was
    /// revoked already.
    pub async fn revoke_device(&self, device_id: &DeviceId) -> Result<bool, DeviceError> {
        self.forget_deals();
        self.record(device_id).await?;
        let revoked = self
            .store
            .revoke_device(device_id, self.now())
            .await
            .map_err(DeviceError::Store)?;
        self.forget_credential(device_id);
        self.hub.close(device_id, ServerMessage::Revoked);
        self.events.changed(device_id);
        info!(device.id = %device_id, "device revoked");
        Ok(revoked)
    }

    pub async fn delete_device(&self, device_id: &DeviceId) -> Result<(), DeviceError> {
        self.forget_deals();
        let deleted = self
            .store
            .delete_device(device_id)
            .await
            .map_err(DeviceError::Store)?;
        if !deleted {
            return Err(DeviceError::DeviceNotFound(device_id.clone()));
        }
        self.forget_credential(device_id);
        self.hub.close(device_id, ServerMessage::Revoked);
        self.presence.forget(device_id);
        self.hub.forget_poller(device_id);
        self.events.publish(DeviceEvent::Removed(device_id.clone()));
        info!(device.id = %device_id, "device deleted");
        Ok(())
    }

    /// Merges `retired` into `survivor`. The retired record stays for the admin to see but can
    /// no longer authenticate, so its socket closes with `revoked`.
    pub async fn merge_devices(
        &self,
        survivor: &DeviceId,
        retired: &DeviceId,
    ) -> Result<DeviceView, DeviceError> {
        // The retired record stops authenticating, so a survivor that cannot authenticate
        // either would leave the screen with no working identity.
        // NOTE: a revoke of the survivor between this read and the merge is not caught.
        if survivor != retired
            && let Some(record) = self
                .store
                .get_device(survivor)
                .await
                .map_err(DeviceError::Store)?
            && !record.is_active()
        {
            return Err(DeviceError::InactiveSurvivor(survivor.clone()));
        }
        self.forget_deals();
        let merged = self
            .store
            .merge_devices(survivor, retired, self.now())
            .await
            .map_err(DeviceError::Store)?;
        let record = match merged {
            DeviceMerge::Merged(record) => *record,
            DeviceMerge::NotFound(id) => return Err(DeviceError::DeviceNotFound(id)),
            DeviceMerge::AlreadyMerged(id) => {
                return Err(DeviceError::InvalidField(onesheet_domain::FieldError::new(
                    "retired",
                    format!(
                        "device {id} was merged into another record already: merge into that record instead"
                    ),
                )));
            }
            DeviceMerge::SameDevice => {
                return Err(DeviceError::InvalidField(onesheet_domain::FieldError::new(
                    "retired",
                    "survivor and retired are the same device: choose two different records",
                )));
            }
        };
        self.forget_credential(retired);
        self.hub.close(retired, ServerMessage::Revoked);
        self.push_settings(&SettingsScope::Device(survivor.clone()))
            .await;
        self.events.changed(survivor);
        self.events.changed(retired);
        info!(device.id = %survivor, retired.id = %retired, "devices merged");
        Ok(self.view(record))
    }

    // Profiles.

    pub async fn list_profiles(&self) -> Result<Vec<Profile>, DeviceError> {
        self.store.list_profiles().await.map_err(DeviceError::Store)
    }

    pub async fn profile(&self, id: i64) -> Result<Profile, DeviceError> {
        self.store
            .get_profile(id)
            .await
            .map_err(DeviceError::Store)?
            .ok_or(DeviceError::ProfileNotFound(id))
    }

    pub async fn create_profile(&self, input: &ProfileInput) -> Result<Profile, DeviceError> {
        let name = validate_label("name", input.name.as_deref().unwrap_or_default())?;
        let overrides = match &input.overrides {
            Some(document) => self.check_shared_override(document)?,
            None => SettingsOverride::default(),
        };
        let profile = NewProfile {
            name,
            overrides,
            created_at: self.now(),
        };
        Ok(self.store.create_profile(&profile).await?)
    }

    pub async fn update_profile(
        &self,
        id: i64,
        input: &ProfileInput,
    ) -> Result<Profile, DeviceError> {
        let changes = ProfileChanges {
            name: input
                .name
                .as_deref()
                .map(|name| validate_label("name", name))
                .transpose()?,
            overrides: input
                .overrides
                .as_ref()
                .map(|document| self.check_shared_override(document))
                .transpose()?,
        };
        let profile = self
            .store
            .update_profile(id, &changes, self.now())
            .await?
            .ok_or(DeviceError::ProfileNotFound(id))?;
        if changes.overrides.is_some() {
            self.push_settings(&SettingsScope::Profile(id)).await;
        }
        Ok(profile)
    }

    pub async fn delete_profile(&self, id: i64) -> Result<(), DeviceError> {
        if !self
            .store
            .delete_profile(id)
            .await
            .map_err(DeviceError::Store)?
        {
            return Err(DeviceError::ProfileNotFound(id));
        }
        // Its members are no longer in the profile, so only a push to every live screen
        // reaches them.
        self.push_settings(&SettingsScope::All).await;
        Ok(())
    }

    // Groups.

    pub async fn list_groups(&self) -> Result<Vec<Group>, DeviceError> {
        self.store.list_groups().await.map_err(DeviceError::Store)
    }

    pub async fn group(&self, id: i64) -> Result<Group, DeviceError> {
        self.store
            .get_group(id)
            .await
            .map_err(DeviceError::Store)?
            .ok_or(DeviceError::GroupNotFound(id))
    }

    pub async fn create_group(&self, input: &GroupInput) -> Result<Group, DeviceError> {
        let name = validate_label("name", input.name.as_deref().unwrap_or_default())?;
        let overrides = match &input.overrides {
            Some(document) => self.check_shared_override(document)?,
            None => SettingsOverride::default(),
        };
        let group = NewGroup {
            name,
            mode: input.mode.unwrap_or_default(),
            overrides,
            created_at: self.now(),
        };
        Ok(self.store.create_group(&group).await?)
    }

    pub async fn update_group(&self, id: i64, input: &GroupInput) -> Result<Group, DeviceError> {
        self.forget_deals();
        let changes = GroupChanges {
            name: input
                .name
                .as_deref()
                .map(|name| validate_label("name", name))
                .transpose()?,
            mode: input.mode,
            overrides: input
                .overrides
                .as_ref()
                .map(|document| self.check_shared_override(document))
                .transpose()?,
        };
        let group = self
            .store
            .update_group(id, &changes, self.now())
            .await?
            .ok_or(DeviceError::GroupNotFound(id))?;
        if changes.overrides.is_some() {
            self.push_settings(&SettingsScope::Group(id)).await;
        }
        Ok(group)
    }

    pub async fn delete_group(&self, id: i64) -> Result<(), DeviceError> {
        self.forget_deals();
        if !self
            .store
            .delete_group(id)
            .await
            .map_err(DeviceError::Store)?
        {
            return Err(DeviceError::GroupNotFound(id));
        }
        self.push_settings(&SettingsScope::All).await;
        Ok(())
    }
}
