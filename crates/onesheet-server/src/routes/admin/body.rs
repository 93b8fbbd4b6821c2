//! A JSON body extractor whose failures go through [`ApiError`] like every other error, with
//! the JSON path of the field at fault, instead of axum's plain-text rejections.

use axum::extract::rejection::{BytesRejection, FailedToBufferBody, JsonRejection};
use axum::extract::{FromRequest, Request};
use http_body_util::LengthLimitError;
use serde::de::DeserializeOwned;
use tower_http::timeout::TimeoutError;

use crate::error::ApiError;

pub(crate) struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
                FailedToBufferBody::LengthLimitError(_),
            ))) => Err(ApiError::BodyTooLarge),
            Err(JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
                FailedToBufferBody::UnknownBodyError(error),
            ))) if caused_by::<LengthLimitError>(&error) => Err(ApiError::BodyTooLarge),
            Err(JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
                FailedToBufferBody::UnknownBodyError(error),
            ))) if caused_by::<TimeoutError>(&error) => Err(ApiError::BodyTimeout),
            Err(rejection) => Err(ApiError::InvalidBody {
                reason: describe(&rejection),
            }),
        }
    }
}

/// Returns true when an `E` is somewhere in the chain of sources of `error`: the body limit and
/// body timeout layers report through the body's read error, which axum wraps.
fn caused_by<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<E>() {
            return true;
        }
        current = error.source();
    }
    false
}

fn describe(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send the body as JSON with Content-Type: application/json".to_owned()
        }
        // serde's message names the field and the expected type, e.g. "unknown field `hots`".
        JsonRejection::JsonDataError(error) => error.body_text(),
        JsonRejection::JsonSyntaxError(error) => error.body_text(),
        other => other.body_text(),
    }
}
