//! Display pages and their assets, embedded from `web/` at build time.
//!
//! Pages use relative URLs only, so the same files work at the root and under a base path.

use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use bytes::Bytes;
use rust_embed::Embed;
use url::form_urlencoded;

use super::conditional::if_none_match;
use super::encoding::{accepts_gzip, gzip};
use super::table::RouteTable;
use crate::error::ApiError;
use crate::middleware::allow_same_origin_framing;
use crate::security::DisplayViewer;
use crate::state::AppState;

#[derive(Embed)]
#[folder = "../../web/"]
pub(super) struct WebAssets;

/// The display pages, each routed at `/{name}` and stored as `web/{name}.html`. The service
/// worker keeps these pages and everything they load.
pub(super) const DISPLAY_PAGES: [&str; 3] = ["screensaver", "wallart", "cinema"];

/// Display pages, which show the catalog and so sit behind the display access check.
pub(super) fn screens() -> RouteTable {
    RouteTable::new()
        .get("/screensaver", screensaver)
        .get("/wallart", wallart)
        .get("/cinema", cinema)
}

/// Builds the home redirect and the pages' scripts and styles, open to everybody because they
/// contain no data.
pub(super) fn assets() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/{*path}", get(asset))
}

/// Sends visitors to the screensaver until an admin UI exists.
async fn home(State(state): State<AppState>) -> Redirect {
    Redirect::temporary(&format!("{}/screensaver", state.base_path.as_str()))
}

async fn screensaver(
    _viewer: DisplayViewer,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    display_page("screensaver.html", &uri, &headers)
}

async fn wallart(
    _viewer: DisplayViewer,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    display_page("wallart.html", &uri, &headers)
}

async fn cinema(
    _viewer: DisplayViewer,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    display_page("cinema.html", &uri, &headers)
}

/// Serves a display page. With `preview=1` in the query, pages of this server may frame it, as
/// the settings editor does for its live preview, and no other site may.
fn display_page(name: &str, uri: &Uri, headers: &HeaderMap) -> Result<Response, ApiError> {
    let mut response = embedded(name, headers)?;
    let preview = uri.query().is_some_and(|query| {
        form_urlencoded::parse(query.as_bytes())
            .any(|(key, value)| key == "preview" && value == "1")
    });
    if preview {
        allow_same_origin_framing(response.headers_mut());
    }
    Ok(response)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    // Embedded names are fixed at build time, so a lookup cannot escape the folder. The check
    // only answers odd requests with a plain 404 before any lookup.
    if path
        .split('/')
        .any(|segment| segment.is_empty() || segment.starts_with('.'))
    {
        return Err(ApiError::NotFound { what: "asset" });
    }
    embedded(&format!("assets/{path}"), &headers)
}

fn embedded(name: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let file = WebAssets::get(name).ok_or(ApiError::NotFound { what: "asset" })?;
    let mime = file.metadata.mimetype().to_owned();
    let hash = hex_prefix(&file.metadata.sha256_hash());

    // Scripts, styles and pages shrink to about a third with gzip, which matters on a TV
    // stick's Wi-Fi. The variants get ETags of their own, so a cache never mixes them.
    let compressible = is_compressible(&mime);
    let compressed = if compressible && accepts_gzip(headers) {
        compressed_asset(name, &file.data)
    } else {
        None
    };
    let etag = match compressed {
        Some(_) => format!("\"{hash}-gz\""),
        None => format!("\"{hash}\""),
    };

    let mut response = if if_none_match(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = match &compressed {
            Some(body) => body.clone().into_response(),
            None => file.data.into_owned().into_response(),
        };
        if let Ok(value) = HeaderValue::from_str(&mime) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        if compressed.is_some() {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if compressible {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    // Asset names carry no content hash, so browsers must revalidate; the ETag keeps that cheap.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// True for the text types among the embedded files. Images are compressed already.
fn is_compressible(mime: &str) -> bool {
    mime.starts_with("text/")
        || mime.starts_with("application/javascript")
        || mime.starts_with("application/json")
        || mime.starts_with("image/svg+xml")
}

/// Returns the gzip copy of the embedded file `name`, made on its first request and kept: the
/// embedded files are fixed at build time, so the cache contains at most one copy of each.
fn compressed_asset(name: &str, data: &[u8]) -> Option<Bytes> {
    static COPIES: LazyLock<RwLock<HashMap<String, Bytes>>> = LazyLock::new(Default::default);

    if let Some(copy) = COPIES.read().ok()?.get(name) {
        return Some(copy.clone());
    }
    let copy = match gzip(data) {
        Ok(copy) => copy,
        Err(error) => {
            tracing::warn!(asset = name, %error, "could not compress an asset; sending it as is");
            return None;
        }
    };
    if let Ok(mut copies) = COPIES.write() {
        copies.insert(name.to_owned(), copy.clone());
    }
    Some(copy)
}

fn hex_prefix(hash: &[u8; 32]) -> String {
    hash.iter().take(12).map(|b| format!("{b:02x}")).collect()
}
