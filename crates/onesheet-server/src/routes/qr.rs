//! QR codes that screens show beside a poster, leading viewers' phones to the item's trailer or
//! its page on IMDb or TMDB. The server draws them as SVG, so screens need no QR library and
//! a weak stick computes nothing.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use onesheet_domain::links::public_link;
use onesheet_domain::{FieldError, ItemId};

use crate::error::ApiError;
use crate::security::DisplayViewer;
use crate::state::AppState;

/// Builds the URL of an item's QR code, as the playlist lists it.
pub(super) fn qr_url(base: &str, item: &str) -> String {
    format!("{base}/api/v1/items/{item}/qr")
}

/// Returns the QR code of the item's public page as SVG, or 404 when the item has none.
pub(super) async fn item_qr(
    _viewer: DisplayViewer,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(item) = path.map_err(|rejection| {
        FieldError::new(
            "path",
            format!("invalid item path: {}", rejection.body_text()),
        )
    })?;
    let item_id: ItemId = item.parse()?;

    let snapshot = state.catalog.snapshot();
    let item = snapshot
        .get(&item_id)
        .ok_or(ApiError::NotFound { what: "item" })?;
    let link = public_link(item).ok_or(ApiError::NotFound { what: "link" })?;
    let svg = onesheet_auth::totp::qr_svg(&link).map_err(ApiError::internal)?;

    let mut response = svg.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    // The link changes only with the item's metadata, so a screen may reuse the code for an
    // hour when the poster comes round again.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}
