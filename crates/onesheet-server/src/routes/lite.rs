//! The low-JavaScript display page for very old browsers: one poster per page, rendered on the
//! server, and a meta refresh to the next one.
//!
//! Tablets stuck on old browsers cannot run the display pages' modules, but any browser
//! follows `<meta http-equiv="refresh">`. The page needs no script and no inline style, so it
//! passes the same CSP as the other pages.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use onesheet_domain::{FieldError, ImageKind, MediaItem};
use serde::Deserialize;
use url::form_urlencoded;

use super::display::filtered_order;
use super::table::RouteTable;
use crate::error::ApiError;
use crate::security::DisplayViewer;
use crate::state::AppState;

/// Poster width requested when the page URL gives none: sharp on a 1280×800 tablet in portrait.
const DEFAULT_WIDTH: u32 = 720;

/// Poster widths a page may request. The image route snaps to its own ladder within this.
const WIDTH_RANGE: std::ops::RangeInclusive<u32> = 120..=3840;

/// Seconds between refreshes of a page with no poster to show, so it picks up a new catalog.
const EMPTY_REFRESH_SECONDS: u32 = 30;

pub(super) fn routes() -> RouteTable {
    RouteTable::new().get("/lite", lite)
}

/// Query of `GET /lite`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LiteParams {
    /// Position in the playlist order, wrapped around its length.
    i: Option<u64>,
    /// Poster width in pixels.
    w: Option<u32>,
}

async fn lite(
    _viewer: DisplayViewer,
    State(state): State<AppState>,
    params: Result<Query<LiteParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|rejection| {
        FieldError::new(
            "query",
            format!(
                "invalid query string: {}. Use ?i=POSITION&w=WIDTH",
                rejection.body_text()
            ),
        )
    })?;
    let width = params.w.unwrap_or(DEFAULT_WIDTH);
    if !WIDTH_RANGE.contains(&width) {
        return Err(FieldError::new(
            "w",
            format!(
                "invalid poster width {width}: use {} to {} pixels",
                WIDTH_RANGE.start(),
                WIDTH_RANGE.end()
            ),
        )
        .into());
    }

    let base = state.base_path.as_str();
    let interval = state.settings.load().settings.screensaver.interval_seconds;
    let snapshot = state.catalog.snapshot();
    // The global filter rules for the time of day apply here as on the other pages.
    let filtered = filtered_order(&state, &snapshot, None);
    let order = filtered
        .as_deref()
        .map_or(snapshot.order.as_slice(), |filtered| {
            filtered.order.as_slice()
        });
    let length = order.len() as u64;
    let current = (length > 0)
        .then(|| {
            let position = params.i.unwrap_or(0) % length;
            let index = order[position as usize] as usize;
            snapshot
                .items
                .get(index)
                .map(|item| (position, item.as_ref()))
        })
        .flatten();

    let markup = match current {
        Some((position, item)) => {
            let next = (position + 1) % length;
            poster_page(base, item, width, interval, &page_url(base, next, width))
        }
        None => empty_page(base, &page_url(base, 0, width)),
    };
    let mut response = markup.into_string().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Each page names its successor, so a cached copy would show the same poster again.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn page_url(base: &str, position: u64, width: u32) -> String {
    format!("{base}/lite?i={position}&w={width}")
}

fn poster_page(base: &str, item: &MediaItem, width: u32, interval: u32, next: &str) -> Markup {
    let poster = item.id.as_ref().and_then(|id| {
        let image = item.images.get(ImageKind::Poster)?;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("v", &image.version)
            .append_pair("w", &width.to_string())
            .finish();
        Some(format!("{base}/img/{id}/poster?{query}"))
    });
    let caption = match item.year {
        Some(year) => format!("{} ({year})", item.title),
        None => item.title.clone(),
    };
    page(
        base,
        &item.title,
        interval,
        next,
        html! {
            @if let Some(poster) = poster {
                div class="poster" { img src=(poster) alt=(item.title); }
            }
            p class="caption" { (caption) }
        },
    )
}

fn empty_page(base: &str, next: &str) -> Markup {
    page(
        base,
        "No posters yet",
        EMPTY_REFRESH_SECONDS,
        next,
        html! {
            p class="caption" {
                "No posters to show yet. This page checks again every "
                (EMPTY_REFRESH_SECONDS) " seconds."
            }
        },
    )
}

fn page(base: &str, title: &str, refresh_seconds: u32, next: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content=(format!("{refresh_seconds}; url={next}"));
                title { (title) " · Onesheet" }
                link rel="icon" href=(format!("{base}/assets/img/favicon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(format!("{base}/assets/css/lite.css"));
            }
            body { (body) }
        }
    }
}
