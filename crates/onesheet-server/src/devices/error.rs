//! Errors of the device service. `ApiError` maps each to a status and a machine code.

use onesheet_domain::{DeviceId, FieldError, PairingCodeError, ValidationErrors};
use onesheet_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("device {0} not found")]
    DeviceNotFound(DeviceId),
    #[error("profile {0} not found")]
    ProfileNotFound(i64),
    #[error("group {0} not found")]
    GroupNotFound(i64),
    #[error("{0}")]
    InvalidCode(#[from] PairingCodeError),
    #[error(
        "pairing code not found: check the code on the screen, or reload the screen for a new one"
    )]
    CodeNotFound,
    #[error("pairing code expired: reload the screen to show a new code")]
    CodeExpired,
    #[error("pairing code already used: reload the screen to show a new code")]
    CodeUsed,
    /// The device's command queue is full.
    #[error("{0}")]
    QueueFull(StoreError),
    #[error("{0}")]
    InvalidField(#[from] FieldError),
    #[error("{0}")]
    InvalidFields(#[from] ValidationErrors),
    /// A name that another profile or group has.
    #[error("{0}")]
    Conflict(StoreError),
    /// The device is unknown, revoked or merged, or the secret does not match. The message
    /// never names which, so a probe learns nothing about device ids.
    #[error("invalid device credentials: pair the screen again")]
    InvalidCredentials,
    /// The device was revoked or merged, and the secret is its own. Unlike
    /// [`InvalidCredentials`](Self::InvalidCredentials), this does not count as a failed login.
    #[error("this device was revoked or merged into another record: pair the screen again")]
    Revoked,
    #[error("too many failed attempts from this address: retry in {retry_after_seconds} s")]
    Blocked { retry_after_seconds: u32 },
    /// Requests over a budget that refills with time. The message names the limit.
    #[error("{message}: retry in {retry_after_seconds} s")]
    RateLimited {
        message: String,
        retry_after_seconds: u32,
    },
    /// A merge whose survivor can no longer authenticate.
    #[error(
        "cannot merge into device {0}: it was revoked or merged into another record; choose an active device as the survivor"
    )]
    InactiveSurvivor(DeviceId),
    #[error("device service unavailable: {0}")]
    Store(StoreError),
}

impl From<StoreError> for DeviceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::QueueFull { .. } => Self::QueueFull(error),
            StoreError::Conflict { .. } => Self::Conflict(error),
            StoreError::NotFound { what, ref id } => {
                let parsed = id.parse::<i64>();
                match (what, parsed) {
                    ("device profile", Ok(id)) => Self::ProfileNotFound(id),
                    ("device group", Ok(id)) => Self::GroupNotFound(id),
                    _ => Self::Store(error),
                }
            }
            other => Self::Store(other),
        }
    }
}
