//! Originals: the artwork file itself, with Range, HEAD and conditional requests.
//!
//! The content type is sniffed from the bytes because extensions lie (RomM saves WebP as
//! `.png`, a renamed HTML page can end in `.jpg`).

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use onesheet_domain::{ImageRef, MediaItem};
use onesheet_sources::{ImageBody, SourceError};
use tokio::io::AsyncReadExt;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::with_cache_headers;
use crate::error::ApiError;
use crate::routes::conditional::if_none_match;
use crate::state::AppState;

/// Bytes read to recognise the format; every supported signature fits in the first 32.
const SNIFF_BYTES: usize = 32;

/// Serves the original file of `image`.
pub(super) async fn serve(
    state: &AppState,
    item: &MediaItem,
    image: &ImageRef,
    cache_control: &'static str,
    mut request: Request,
) -> Result<Response, ApiError> {
    let etag = format!("\"{}\"", image.version);
    if if_none_match(request.headers(), &etag) {
        return Ok(with_cache_headers(
            StatusCode::NOT_MODIFIED.into_response(),
            &etag,
            cache_control,
        ));
    }

    let source = item
        .source
        .as_ref()
        .and_then(|id| state.catalog.source(id))
        .ok_or(ApiError::NotFound { what: "image" })?;
    let body = source
        .open_image(image)
        .await
        .map_err(|error| match error {
            SourceError::ImageNotFound { .. } => ApiError::NotFound { what: "image" },
            SourceError::Upstream { .. } | SourceError::Unavailable { .. } => ApiError::Upstream {
                code: error.code(),
                message: error.to_string(),
            },
            other => ApiError::internal(other),
        })?;
    let path = match body {
        ImageBody::File(path) => path,
        // Fetched from a media server: the bytes get the probe local files get at scan time,
        // because a truncated or mislabelled body is no image. The type comes from the bytes, never
        // from the server's header, which some servers get wrong (WebP sent as image/png).
        ImageBody::Bytes { bytes, .. } => {
            if let Err(error) = onesheet_images::probe_bytes(&bytes) {
                return Err(ApiError::UnprocessableImage {
                    reason: error.to_string(),
                });
            }
            let content_type = handle_sniff(sniff_bytes(&bytes))?;
            let response = (
                [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
                bytes,
            )
                .into_response();
            return Ok(with_cache_headers(response, &etag, cache_control));
        }
    };

    // If-Range with another validator means the client's copy is stale: it gets the whole file.
    // ServeFile compares If-Range only with dates, so entity tags are settled here.
    if let Some(if_range) = request.headers().get(header::IF_RANGE)
        && if_range.as_bytes() != etag.as_bytes()
        && httpdate::parse_http_date(if_range.to_str().unwrap_or_default()).is_err()
    {
        let headers = request.headers_mut();
        headers.remove(header::RANGE);
        headers.remove(header::IF_RANGE);
    }

    // Whole-file reads take one trip to the blocking pool where streaming takes one per chunk,
    // which more than halves the cost of a typical poster. Ranges and HEAD stream as before.
    let whole_read =
        request.method() == Method::GET && !request.headers().contains_key(header::RANGE);
    if whole_read {
        let read = read_small_file(path.clone()).await;
        let read = handle_sniff(read)?;
        if let Some(file) = read {
            let mut response = (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(file.content_type),
                    ),
                    (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
                ],
                file.bytes,
            )
                .into_response();
            if let Some(modified) = file.modified
                && let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(modified))
            {
                response.headers_mut().insert(header::LAST_MODIFIED, value);
            }
            return Ok(with_cache_headers(response, &etag, cache_control));
        }
    }

    let content_type = handle_sniff(sniff_file(&path).await)?;

    // ServeFile brings Range, If-Range, HEAD and Last-Modified handling.
    let served = ServeFile::new(&path)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?;
    if served.status() == StatusCode::NOT_FOUND {
        return Err(ApiError::NotFound { what: "image" });
    }
    let mut response = served.map(Body::new);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(with_cache_headers(response, &etag, cache_control))
}

/// Maps a sniffing failure to the response; the error middleware logs it with the request.
fn handle_sniff<T>(result: Result<T, SniffError>) -> Result<T, ApiError> {
    result.map_err(|error| match error {
        SniffError::Missing => ApiError::NotFound { what: "image" },
        SniffError::Busy(reason) => ApiError::Unavailable { reason },
        SniffError::Unusable(reason) => ApiError::UnprocessableImage { reason },
    })
}

enum SniffError {
    /// The file was removed since the last scan.
    Missing,
    /// The file cannot be opened now for a reason that may pass, such as too many open files.
    Busy(String),
    Unusable(String),
}

/// Largest file read into memory whole; bigger ones are streamed.
const WHOLE_READ_MAX_BYTES: u64 = 1024 * 1024;

struct SmallFile {
    bytes: Bytes,
    content_type: &'static str,
    modified: Option<std::time::SystemTime>,
}

/// Reads a file of at most [`WHOLE_READ_MAX_BYTES`] in one blocking call and sniffs its type.
/// Returns `None` for a larger file.
async fn read_small_file(path: PathBuf) -> Result<Option<SmallFile>, SniffError> {
    let read = tokio::task::spawn_blocking(move || -> Result<Option<SmallFile>, SniffError> {
        let mut file = std::fs::File::open(&path).map_err(open_error)?;
        let metadata = file
            .metadata()
            .map_err(|error| SniffError::Unusable(format!("cannot read the file: {error}")))?;
        if metadata.len() > WHOLE_READ_MAX_BYTES {
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(metadata.len() as usize);
        std::io::Read::read_to_end(&mut file, &mut bytes)
            .map_err(|error| SniffError::Unusable(format!("cannot read the file: {error}")))?;
        let content_type = sniff_bytes(&bytes)?;
        Ok(Some(SmallFile {
            bytes: Bytes::from(bytes),
            content_type,
            modified: metadata.modified().ok(),
        }))
    })
    .await;
    read.map_err(|error| SniffError::Unusable(format!("reading the file stopped: {error}")))?
}

/// Sorts an open failure: gone (404), not readable by the server (422), or anything else, such
/// as running out of file descriptors, which is the server's trouble and may pass (503).
fn open_error(error: std::io::Error) -> SniffError {
    match error.kind() {
        std::io::ErrorKind::NotFound => SniffError::Missing,
        std::io::ErrorKind::PermissionDenied => {
            SniffError::Unusable(format!("cannot open the file: {error}"))
        }
        _ => SniffError::Busy(format!("cannot open the file now: {error}")),
    }
}

fn sniff_bytes(bytes: &[u8]) -> Result<&'static str, SniffError> {
    onesheet_images::sniff(&bytes[..bytes.len().min(SNIFF_BYTES)])
        .map(|format| format.mime())
        .ok_or_else(|| SniffError::Unusable("the file is not a supported image format".to_owned()))
}

/// Reads the first bytes of the file and returns the MIME type they show.
async fn sniff_file(path: &std::path::Path) -> Result<&'static str, SniffError> {
    let mut file = tokio::fs::File::open(path).await.map_err(open_error)?;
    let mut head = [0u8; SNIFF_BYTES];
    let mut filled = 0;
    while filled < SNIFF_BYTES {
        let read = file
            .read(&mut head[filled..])
            .await
            .map_err(|error| SniffError::Unusable(format!("cannot read the file: {error}")))?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    sniff_bytes(&head[..filled])
}
