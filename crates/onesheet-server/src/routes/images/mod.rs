//! Image delivery: `GET /img/{item}/{kind}` serves a catalog item's artwork, either the
//! original file or, with `w`, `h` or `fit`, a variant derived for the screen.
//!
//! The URL names an item and a slot, never a path, so nothing a client sends can point the
//! server at a file: the file comes from the item's own image reference, resolved by the source
//! that created it.

mod derived;
mod original;
mod params;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use onesheet_domain::{FieldError, ImageKind, ItemId};

use super::table::RouteTable;
use crate::error::ApiError;
use crate::security::DisplayViewer;
use crate::state::AppState;
use params::ImageParams;

/// A URL that carries the current version never changes content, so browsers may keep it for a
/// year without asking again.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// A URL without the version can start meaning another image after a rescan.
const REVALIDATE: &str = "public, max-age=300, must-revalidate";

pub(super) fn routes() -> RouteTable {
    RouteTable::new().get("/img/{item}/{kind}", image)
}

async fn image(
    _viewer: DisplayViewer,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let Path((item, kind)) = path.map_err(|rejection| {
        FieldError::new(
            "path",
            format!("invalid image path: {}", rejection.body_text()),
        )
    })?;
    let item_id: ItemId = item.parse()?;
    let kind: ImageKind = kind.parse()?;
    let params = ImageParams::parse(query.as_deref().unwrap_or_default())?;

    let snapshot = state.catalog.snapshot();
    let item = snapshot
        .get(&item_id)
        .ok_or(ApiError::NotFound { what: "item" })?;
    let image = item
        .images
        .get(kind)
        .ok_or(ApiError::NotFound { what: "image" })?;

    let cache_control = if params.version.as_deref() == Some(image.version.as_str()) {
        IMMUTABLE
    } else {
        REVALIDATE
    };

    match params.size {
        None => original::serve(&state, item, image, cache_control, request).await,
        Some(size) => {
            derived::serve(
                &state,
                item,
                kind,
                image,
                size,
                cache_control,
                request.headers(),
            )
            .await
        }
    }
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
