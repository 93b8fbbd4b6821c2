//! Image delivery: `GET /img/{item}/{kind}` streams the original artwork of a catalog item.
//!
//! The URL names an item and a slot, never a path, so nothing a client sends can point the
//! server at a file: the file comes from the item's own image reference, resolved by the source
//! that created it. The content type is sniffed from the bytes because extensions lie (RomM
//! saves WebP as `.png`, a renamed HTML page can end in `.jpg`).
//!
//! Resizing will slot in between `open_image` and the response: this handler already has the
//! item, the slot and the version that would key a derived image.

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use onesheet_domain::{FieldError, ImageKind, ItemId};
use onesheet_sources::{ImageBody, SourceError};
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use tower::ServiceExt;
use tower_http::services::ServeFile;
use tracing::warn;

use super::conditional::if_none_match;
use crate::error::ApiError;
use crate::state::AppState;

/// A URL that carries the current version never changes content, so browsers may keep it for a
/// year without asking again.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// A URL without the version can start meaning another image after a rescan.
const REVALIDATE: &str = "public, max-age=300, must-revalidate";

/// Bytes read to recognise the format; every supported signature fits in the first 32.
const SNIFF_BYTES: usize = 32;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/img/{item}/{kind}", get(image))
}

#[derive(Deserialize)]
struct VersionParam {
    v: Option<String>,
}

async fn image(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    version: Result<Query<VersionParam>, QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    let Path((item, kind)) = path.map_err(|rejection| {
        FieldError::new(
            "item",
            format!("invalid image path: {}", rejection.body_text()),
        )
    })?;
    let item_id: ItemId = item.parse()?;
    let kind: ImageKind = kind.parse()?;

    let snapshot = state.catalog.snapshot();
    let item = snapshot
        .get(&item_id)
        .ok_or(ApiError::NotFound { what: "item" })?;
    let image = item
        .images
        .get(kind)
        .ok_or(ApiError::NotFound { what: "image" })?;

    let etag = format!("\"{}\"", image.version);
    let cache_control = match version {
        Ok(Query(VersionParam { v: Some(v) })) if v == image.version => IMMUTABLE,
        _ => REVALIDATE,
    };
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
    let ImageBody::File(path) = source
        .open_image(image)
        .await
        .map_err(|error| match error {
            SourceError::ImageNotFound { .. } => ApiError::NotFound { what: "image" },
            other => ApiError::internal(other),
        })?;

    let content_type = match sniff_file(&path).await {
        Ok(content_type) => content_type,
        Err(SniffError::Missing) => return Err(ApiError::NotFound { what: "image" }),
        Err(SniffError::Unusable(reason)) => {
            warn!(item.id = %item_id, image.kind = kind.as_str(), %reason, "image cannot be served");
            return Err(ApiError::UnprocessableImage { reason });
        }
    };

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

enum SniffError {
    /// The file was removed since the last scan.
    Missing,
    Unusable(String),
}

/// Reads the first bytes of the file and returns the MIME type they show.
async fn sniff_file(path: &std::path::Path) -> Result<&'static str, SniffError> {
    let mut file = tokio::fs::File::open(path).await.map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            SniffError::Missing
        } else {
            SniffError::Unusable(format!("cannot open the file: {error}"))
        }
    })?;
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
    onesheet_images::sniff(&head[..filled])
        .map(|format| format.mime())
        .ok_or_else(|| SniffError::Unusable("the file is not a supported image format".to_owned()))
}

fn with_cache_headers(mut response: Response, etag: &str, cache_control: &'static str) -> Response {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    response
}
