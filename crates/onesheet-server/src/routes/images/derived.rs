//! Variants: an original decoded, fitted to the requested box and encoded for the client.
//!
//! The ETag is the variant's cache key, which covers the image version, the snapped size, the
//! fit, the format and the encoder settings, so a 304 can be answered before any work and
//! equal tags always mean equal bytes.

use std::io::Read;
use std::path::PathBuf;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onesheet_domain::{ImageKind, ImageRef, MediaItem};
use onesheet_images::derive::DeriveRequest;
use onesheet_images::pipeline::{ImageIdentity, ImagePipeline, LoadError};
use onesheet_sources::{ImageBody, SourceError};

use super::params::{SizeParams, negotiate_format};
use super::with_cache_headers;
use crate::error::ApiError;
use crate::routes::conditional::if_none_match;
use crate::state::AppState;

/// Serves one variant of `image`, deriving it on a cache miss.
pub(super) async fn serve(
    state: &AppState,
    item: &MediaItem,
    kind: ImageKind,
    image: &ImageRef,
    size: SizeParams,
    cache_control: &'static str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let source_id = item
        .source
        .as_ref()
        .ok_or(ApiError::NotFound { what: "image" })?;
    let request = DeriveRequest {
        width: size.width,
        height: size.height,
        fit: size.fit,
        format: negotiate_format(headers, kind),
    };
    // NOTE: the version comes from the last scan. A file replaced in place before the next
    // rescan is derived under the old version's key, so the old URL serves the new picture as
    // immutable and the disk cache keeps it under that key, even after the rescan.
    let identity = ImageIdentity {
        source: source_id.to_string(),
        key: image.key.clone(),
        version: image.version.clone(),
    };

    let etag = format!(
        "\"{}\"",
        &ImagePipeline::variant_key(&identity, &request).to_hex()[..32]
    );
    if if_none_match(headers, &etag) {
        return Ok(with_variant_headers(
            StatusCode::NOT_MODIFIED.into_response(),
            &etag,
            cache_control,
        ));
    }

    let source = state
        .catalog
        .source(source_id)
        .ok_or(ApiError::NotFound { what: "image" })?;
    let max_bytes = state.images.limits().max_input_bytes;
    let image = image.clone();
    let load = move || async move {
        let body = source
            .open_image(&image)
            .await
            .map_err(|error| match error {
                SourceError::ImageNotFound { .. } => LoadError::NotFound,
                SourceError::Upstream { .. } | SourceError::Unavailable { .. } => {
                    LoadError::Upstream {
                        code: error.code(),
                        detail: error.to_string(),
                    }
                }
                other => LoadError::Io(other.to_string()),
            })?;
        match body {
            ImageBody::File(path) => read_original(path, max_bytes).await,
            ImageBody::Bytes { bytes, .. } if bytes.len() as u64 > max_bytes => {
                Err(LoadError::TooLarge {
                    bytes: bytes.len() as u64,
                    max: max_bytes,
                })
            }
            ImageBody::Bytes { bytes, .. } => Ok(bytes.to_vec()),
        }
    };

    let variant = state.images.variant(identity, request, load).await?;
    let response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(variant.format.mime()),
        )],
        variant.bytes,
    )
        .into_response();
    Ok(with_variant_headers(response, &etag, cache_control))
}

fn with_variant_headers(response: Response, etag: &str, cache_control: &'static str) -> Response {
    let mut response = with_cache_headers(response, etag, cache_control);
    // The format depends on Accept and on the user agent (old Safari never gets WebP), so
    // shared caches must keep one copy per pair.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept, User-Agent"));
    response
}

/// Reads an original of at most `max_bytes` on a blocking thread. The size is checked before
/// reading and again while reading, because the file may grow in between.
async fn read_original(path: PathBuf, max_bytes: u64) -> Result<Vec<u8>, LoadError> {
    let read = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound,
            _ => LoadError::Io(format!("cannot open the original: {error}")),
        })?;
        let declared = file
            .metadata()
            .map_err(|error| LoadError::Io(format!("cannot read the original: {error}")))?
            .len();
        if declared > max_bytes {
            return Err(LoadError::TooLarge {
                bytes: declared,
                max: max_bytes,
            });
        }

        let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| LoadError::Io(format!("cannot read the original: {error}")))?;
        if bytes.len() as u64 > max_bytes {
            return Err(LoadError::TooLarge {
                bytes: bytes.len() as u64,
                max: max_bytes,
            });
        }
        Ok(bytes)
    })
    .await;
    read.map_err(|error| LoadError::Io(format!("reading the original stopped: {error}")))?
}
