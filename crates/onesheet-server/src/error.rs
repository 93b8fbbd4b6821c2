//! The one mapping from failures to HTTP responses.
//!
//! A handler returns an [`ApiError`]; `into_response` attaches the status, a stable machine code
//! and the client-safe message to the response as an extension. The `render_errors` middleware
//! then writes the JSON body with the request id and logs the detail, so no handler formats an
//! error body or decides a status on its own.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onesheet_domain::{FieldError, ValidationErrors};
use onesheet_images::pipeline::{FailureReason, ImageFailure, PipelineError};
use onesheet_sources::registry::RegistryError;

use crate::accounts::AccountError;
use crate::devices::DeviceError;
use crate::security::DisplayRefusal;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query or path value is invalid; the field names it.
    #[error("{0}")]
    InvalidInput(FieldError),
    /// A request body has invalid fields; each names the field and what it accepts.
    #[error("{0}")]
    InvalidFields(ValidationErrors),
    /// A chunked body found too large while read. A `Content-Length` over the limit is rejected
    /// by a layer before any handler runs.
    #[error("request body too large: the limit is 64 KiB")]
    BodyTooLarge,
    /// The body stopped arriving for longer than the body timeout.
    #[error("the request body stopped arriving: send it again in one go")]
    BodyTimeout,
    /// The body is not the JSON the route expects.
    #[error("invalid request body: {reason}")]
    InvalidBody { reason: String },
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// Missing or wrong credentials for an admin route.
    #[error("{reason}")]
    Unauthorized { reason: &'static str },
    /// The route exists but is switched off by configuration.
    #[error("{reason}")]
    Disabled { reason: &'static str },
    #[error("{message}")]
    Conflict { message: String },
    /// The media server holding the data failed; `code` is the source's error code, such as
    /// `source-unreachable`.
    #[error("{message}")]
    Upstream { code: &'static str, message: String },
    /// The item exists but its image cannot be produced from the bytes on disk.
    #[error("image cannot be served: {reason}")]
    UnprocessableImage { reason: String },
    /// A derived image cannot be produced; the failure's reason gives the code.
    #[error("image cannot be served: {0}")]
    Image(Arc<ImageFailure>),
    /// Not ready yet; the client should retry.
    #[error("service unavailable: {reason}")]
    Unavailable { reason: String },
    /// At capacity; the client should retry after the given time.
    #[error("service busy: {reason}")]
    Busy {
        reason: String,
        retry_after_seconds: u32,
    },
    /// A display route requested by a client that may not use it. The reason names the fix.
    #[error("{0}")]
    DisplayRefused(DisplayRefusal),
    /// Signed in (or holding a token) but not allowed to do this, or a cross-site request.
    #[error("{reason}")]
    Forbidden { reason: &'static str },
    /// Setup, login, sessions, two-factor and API tokens.
    #[error("{0}")]
    Account(#[from] AccountError),
    /// Pairing, device credentials, commands, profiles and groups.
    #[error("{0}")]
    Device(#[from] DeviceError),
    /// Anything unexpected. The detail goes to the log only.
    #[error("internal error: {detail}")]
    Internal { detail: String },
}

impl ApiError {
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal {
            detail: detail.to_string(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::InvalidInput(_) | Self::InvalidFields(_) | Self::InvalidBody { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Disabled { .. } => StatusCode::FORBIDDEN,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Self::UnprocessableImage { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Image(failure) => match failure.reason {
                FailureReason::NotFound => StatusCode::NOT_FOUND,
                FailureReason::Processing => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            Self::Unavailable { .. } | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Forbidden { .. } | Self::DisplayRefused(_) => StatusCode::FORBIDDEN,
            Self::Device(error) => device_status(error),
            Self::Account(error) => match error {
                AccountError::InvalidCredentials
                | AccountError::CodeRejected
                | AccountError::SetupTokenRejected
                | AccountError::NotSignedIn => StatusCode::UNAUTHORIZED,
                AccountError::Blocked { .. } => StatusCode::TOO_MANY_REQUESTS,
                AccountError::SetupDone
                | AccountError::UsernameTaken(_)
                | AccountError::TotpState(_) => StatusCode::CONFLICT,
                AccountError::WeakPassword(_)
                | AccountError::InvalidUsername { .. }
                | AccountError::InvalidToken { .. } => StatusCode::BAD_REQUEST,
                AccountError::NotFound { .. } => StatusCode::NOT_FOUND,
                AccountError::WrongPassword => StatusCode::FORBIDDEN,
                AccountError::Busy => StatusCode::SERVICE_UNAVAILABLE,
                AccountError::Store(_) | AccountError::Internal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) | Self::InvalidFields(_) => "invalid-input",
            Self::InvalidBody { .. } => "invalid-body",
            Self::BodyTooLarge => "body-too-large",
            Self::BodyTimeout => "body-timeout",
            Self::NotFound { .. } => "not-found",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Disabled { .. } => "disabled",
            Self::Conflict { .. } => "conflict",
            Self::Upstream { code, .. } => code,
            Self::UnprocessableImage { .. } => "image-unprocessable",
            Self::Image(failure) => failure.reason.code(),
            Self::Unavailable { .. } => "unavailable",
            Self::Busy { .. } => "busy",
            Self::Internal { .. } => "internal",
            Self::Forbidden { .. } => "forbidden",
            Self::DisplayRefused(_) => "display-not-allowed",
            Self::Device(error) => device_code(error),
            Self::Account(error) => match error {
                AccountError::InvalidCredentials => "invalid-credentials",
                AccountError::WrongPassword => "wrong-password",
                AccountError::CodeRejected => "code-rejected",
                AccountError::SetupTokenRejected => "setup-token-rejected",
                AccountError::NotSignedIn => "not-signed-in",
                AccountError::Blocked { .. } => "too-many-attempts",
                AccountError::SetupDone => "setup-done",
                AccountError::UsernameTaken(_) => "username-taken",
                AccountError::TotpState(_) => "two-factor-state",
                AccountError::WeakPassword(_) => "weak-password",
                AccountError::InvalidUsername { .. } => "invalid-username",
                AccountError::InvalidToken { .. } => "invalid-token",
                AccountError::NotFound { .. } => "not-found",
                AccountError::Busy => "busy",
                AccountError::Store(_) | AccountError::Internal(_) => "internal",
            },
        }
    }

    /// Returns the message a client may see. Internal details never leave the server.
    fn public_message(&self) -> String {
        match self {
            Self::Internal { .. }
            | Self::Device(DeviceError::Store(_))
            | Self::Account(AccountError::Store(_) | AccountError::Internal(_)) => {
                "internal error: the server log has the details under this request id".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// Error facts that the request middleware needs to write the body and the log line.
#[derive(Debug, Clone)]
pub(crate) struct ErrorReport {
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Every invalid field of a request body, so a form can mark them all at once.
    pub fields: Vec<FieldError>,
    /// The full error for the log; may contain details not fit for a client.
    pub detail: String,
}

#[derive(Serialize)]
pub(crate) struct ErrorBody<'a> {
    pub error: ErrorFields<'a>,
}

#[derive(Serialize)]
pub(crate) struct ErrorFields<'a> {
    pub code: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    pub fields: &'a [FieldError],
    pub request_id: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let report = ErrorReport {
            code: self.code(),
            message: self.public_message(),
            field: match &self {
                Self::InvalidInput(error) => Some(error.field.clone()),
                Self::Account(AccountError::WeakPassword(_)) => Some("password".to_owned()),
                Self::Account(AccountError::InvalidUsername { .. }) => Some("username".to_owned()),
                Self::InvalidFields(errors) | Self::Device(DeviceError::InvalidFields(errors)) => {
                    errors.errors.first().map(|e| e.field.clone())
                }
                Self::Device(DeviceError::InvalidField(error)) => Some(error.field.clone()),
                Self::Device(DeviceError::InvalidCode(_)) => Some("code".to_owned()),
                _ => None,
            },
            fields: match &self {
                Self::InvalidFields(errors) | Self::Device(DeviceError::InvalidFields(errors)) => {
                    errors.errors.clone()
                }
                _ => Vec::new(),
            },
            detail: self.to_string(),
        };
        let mut response = self.status().into_response();
        let retry_after = match &self {
            Self::Unavailable { .. } => Some(HeaderValue::from_static("5")),
            Self::Busy {
                retry_after_seconds,
                ..
            } => Some(HeaderValue::from(*retry_after_seconds)),
            Self::Account(AccountError::Blocked {
                retry_after_seconds,
            }) => Some(HeaderValue::from(*retry_after_seconds)),
            Self::Account(AccountError::Busy) => Some(HeaderValue::from_static("5")),
            Self::Device(
                DeviceError::Blocked {
                    retry_after_seconds,
                }
                | DeviceError::RateLimited {
                    retry_after_seconds,
                    ..
                },
            ) => Some(HeaderValue::from(*retry_after_seconds)),
            _ => None,
        };
        if let Some(value) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if matches!(self, Self::Unauthorized { .. }) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"onesheet-admin\""),
            );
        }
        response.extensions_mut().insert(report);
        response
    }
}

fn device_status(error: &DeviceError) -> StatusCode {
    match error {
        DeviceError::DeviceNotFound(_)
        | DeviceError::ProfileNotFound(_)
        | DeviceError::GroupNotFound(_)
        | DeviceError::CodeNotFound => StatusCode::NOT_FOUND,
        DeviceError::InvalidCode(_)
        | DeviceError::InvalidField(_)
        | DeviceError::InvalidFields(_) => StatusCode::BAD_REQUEST,
        DeviceError::CodeExpired => StatusCode::GONE,
        DeviceError::CodeUsed
        | DeviceError::QueueFull(_)
        | DeviceError::Conflict(_)
        | DeviceError::InactiveSurvivor(_) => StatusCode::CONFLICT,
        DeviceError::InvalidCredentials | DeviceError::Revoked => StatusCode::UNAUTHORIZED,
        DeviceError::Blocked { .. } | DeviceError::RateLimited { .. } => {
            StatusCode::TOO_MANY_REQUESTS
        }
        DeviceError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn device_code(error: &DeviceError) -> &'static str {
    match error {
        DeviceError::DeviceNotFound(_) => "device-not-found",
        DeviceError::ProfileNotFound(_) => "profile-not-found",
        DeviceError::GroupNotFound(_) => "group-not-found",
        DeviceError::CodeNotFound => "pairing-code-not-found",
        DeviceError::InvalidCode(_)
        | DeviceError::InvalidField(_)
        | DeviceError::InvalidFields(_) => "invalid-input",
        DeviceError::CodeExpired => "pairing-code-expired",
        DeviceError::CodeUsed => "pairing-code-used",
        DeviceError::QueueFull(_) => "command-queue-full",
        DeviceError::Conflict(_) => "conflict",
        DeviceError::InvalidCredentials => "invalid-credentials",
        DeviceError::Revoked => "device-revoked",
        DeviceError::InactiveSurvivor(_) => "device-inactive",
        DeviceError::Blocked { .. } => "too-many-attempts",
        DeviceError::RateLimited { .. } => "rate-limited",
        DeviceError::Store(_) => "internal",
    }
}

impl From<PipelineError> for ApiError {
    fn from(error: PipelineError) -> Self {
        match error {
            PipelineError::Failed(failure) => Self::Image(failure),
            PipelineError::Busy {
                retry_after_seconds,
            } => Self::Busy {
                reason: "the image queue is full".to_owned(),
                retry_after_seconds,
            },
            PipelineError::TimedOut { .. } => Self::Busy {
                reason: "the image is still being prepared".to_owned(),
                retry_after_seconds: 2,
            },
            PipelineError::Internal(detail) => Self::Internal { detail },
            PipelineError::Upstream { code, detail } => Self::Upstream {
                code,
                message: detail,
            },
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::Invalid(errors) => Self::InvalidFields(errors),
            RegistryError::NotFound { .. } => Self::NotFound { what: "source" },
            RegistryError::Conflict { .. } => Self::Conflict {
                message: error.to_string(),
            },
            other => Self::internal(other),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::InvalidInput(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_status_and_code() {
        let cases = [
            (
                ApiError::InvalidInput(FieldError::new("limit", "bad")),
                400,
                "invalid-input",
            ),
            (ApiError::NotFound { what: "item" }, 404, "not-found"),
            (
                ApiError::UnprocessableImage { reason: "x".into() },
                422,
                "image-unprocessable",
            ),
            (
                ApiError::Unavailable { reason: "x".into() },
                503,
                "unavailable",
            ),
            (
                ApiError::Busy {
                    reason: "x".into(),
                    retry_after_seconds: 3,
                },
                503,
                "busy",
            ),
            (
                ApiError::Image(Arc::new(ImageFailure {
                    reason: FailureReason::NotFound,
                    detail: "x".into(),
                })),
                404,
                "image-not-found",
            ),
            (
                ApiError::Image(Arc::new(ImageFailure {
                    reason: FailureReason::Invalid,
                    detail: "x".into(),
                })),
                422,
                "image-invalid",
            ),
            (ApiError::internal("disk on fire"), 500, "internal"),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status().as_u16(), status);
            assert_eq!(error.code(), code);
        }
    }

    #[test]
    fn busy_sets_retry_after() {
        let response = ApiError::from(PipelineError::Busy {
            retry_after_seconds: 7,
        })
        .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");

        let timed_out = ApiError::from(PipelineError::TimedOut {
            deadline: std::time::Duration::from_secs(20),
        })
        .into_response();
        assert_eq!(timed_out.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(timed_out.headers().contains_key(header::RETRY_AFTER));
    }

    #[test]
    fn internal_detail_stays_out_of_public_message() {
        let error = ApiError::internal("/secret/path/token=abc");
        assert!(!error.public_message().contains("secret"));
        let response = error.into_response();
        let report = response.extensions().get::<ErrorReport>().unwrap();
        assert!(report.detail.contains("/secret/path"));
    }
}
