//! The low-JavaScript display page for very old browsers: one poster per page, rendered on the
//! server, and a meta refresh to the next one.
//!
//! Tablets stuck on old browsers cannot run the display pages' modules, but any browser
//! follows `<meta http-equiv="refresh">`. The page needs no script and no inline style, so it
//! passes the same CSP as the other pages.
//!
//! The page takes the display pages' `interval` and `preset` parameters and carries them to
//! the next page. A preset's filter selects the posters, and its mode's interval times the
//! refresh unless `interval` sets one. Its layout settings do not apply to this page.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use onesheet_domain::presets::{Preset, find_preset};
use onesheet_domain::settings::overrides::merge;
use onesheet_domain::settings::screensaver::SCREENSAVER_INTERVAL_SECONDS_RANGE;
use onesheet_domain::{DisplayMode, DisplaySettings, FieldError, ImageKind, MediaItem};
use serde::Deserialize;
use url::form_urlencoded;

use super::display::filtered_order;
use super::table::RouteTable;
use crate::devices::ScreenFilter;
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
    /// Seconds each poster stays, within the screensaver's interval range.
    interval: Option<u32>,
    /// A preset id, as on the other display pages.
    preset: Option<String>,
}

/// The query parameters that every page passes on to the next one.
struct PageQuery<'a> {
    width: u32,
    interval: Option<u32>,
    preset: Option<&'a str>,
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
                "invalid query string: {}. Use ?i=POSITION&w=WIDTH&interval=SECONDS&preset=ID",
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

    if let Some(interval) = params.interval
        && !SCREENSAVER_INTERVAL_SECONDS_RANGE.contains(&interval)
    {
        return Err(FieldError::new(
            "interval",
            format!(
                "invalid interval {interval}: use {} to {} seconds",
                SCREENSAVER_INTERVAL_SECONDS_RANGE.start(),
                SCREENSAVER_INTERVAL_SECONDS_RANGE.end()
            ),
        )
        .into());
    }
    let preset = params.preset.as_deref().map(find_preset).transpose()?;
    let query = PageQuery {
        width,
        interval: params.interval,
        preset: preset.map(|preset| preset.id),
    };

    let base = state.base_path.as_str();
    let global = state.settings.load();
    let (interval, screen_filter) = match preset {
        Some(preset) => {
            let merged = merge_preset(&global.settings, preset)?;
            let filter = ScreenFilter {
                filter: merged.filter.clone(),
                rules: merged.filter_rules.clone(),
            };
            (mode_interval(&merged, preset.mode), Some(filter))
        }
        None => (global.settings.screensaver.interval_seconds, None),
    };
    let interval = params.interval.unwrap_or(interval);
    let snapshot = state.catalog.snapshot();
    // The global filter rules for the time of day apply here as on the other pages, or the
    // preset's filter with them.
    let filtered = filtered_order(&state, &snapshot, screen_filter.as_ref());
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
            poster_page(base, item, width, interval, &page_url(base, next, &query))
        }
        None => empty_page(base, &page_url(base, 0, &query)),
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

/// Returns the global settings with `preset` laid over them, as `/api/v1/display-settings`
/// does for the other pages.
fn merge_preset(global: &DisplaySettings, preset: &Preset) -> Result<DisplaySettings, ApiError> {
    merge(global, &[&preset.overrides()]).map_err(|errors| {
        tracing::warn!(preset = preset.id, %errors, "a preset does not fit the global settings");
        ApiError::Conflict {
            message: format!(
                "the preset {} does not fit the current settings: {errors}",
                preset.id
            ),
        }
    })
}

/// Returns the interval of `mode` in `settings`, in seconds.
fn mode_interval(settings: &DisplaySettings, mode: DisplayMode) -> u32 {
    match mode {
        DisplayMode::Screensaver => settings.screensaver.interval_seconds,
        DisplayMode::Wallart => settings.wallart.interval_seconds,
        DisplayMode::Cinema => settings.cinema.interval_seconds,
    }
}

fn page_url(base: &str, position: u64, query: &PageQuery<'_>) -> String {
    let mut url = format!("{base}/lite?i={position}&w={}", query.width);
    if let Some(interval) = query.interval {
        url.push_str(&format!("&interval={interval}"));
    }
    if let Some(preset) = query.preset {
        // Preset ids are lowercase words joined by hyphens, so they need no escaping.
        url.push_str(&format!("&preset={preset}"));
    }
    url
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
