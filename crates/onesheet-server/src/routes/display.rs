//! The display API: what screens fetch to know what to show and how.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use onesheet_domain::links::public_link;
use onesheet_domain::media::Rgb;
use onesheet_domain::presets::{Preset, find_preset};
use onesheet_domain::settings::filter_rules::filter_at;
use onesheet_domain::settings::overrides::merge;
use onesheet_domain::{
    Badges, Cursor, DisplayMode, DisplaySettings, FieldError, ImageKind, MediaItem, MediaKind,
    PlaylistQuery,
};
use onesheet_sources::Snapshot;
use onesheet_sources::catalog::FilteredOrder;
use serde::{Deserialize, Serialize};

use super::conditional::if_none_match;
use super::encoding::{accepts_gzip, gzip};
use super::qr;
use super::table::RouteTable;
use crate::devices::{Deal, DeviceCredential, Schedule, ScreenFilter, Share};
use crate::error::ApiError;
use crate::security::{ClientAddress, DisplayViewer};
use crate::state::{AppState, BasePath, RenderedPage, fnv1a};

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/playlist", playlist)
        .get("/api/v1/display-settings", display_settings)
        .get("/api/v1/now-playing", now_playing)
        .get("/api/v1/items/{item}/qr", qr::item_qr)
}

/// One playback session as screens see it: no user name and no upstream keys, and the poster
/// as an Onesheet URL when the item is in the catalog.
#[derive(Serialize)]
struct NowPlayingView<'a> {
    source: &'a str,
    session_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    player: Option<&'a str>,
    title: &'a str,
    kind: MediaKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    year: Option<u16>,
    state: onesheet_domain::PlaybackState,
    position_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    /// The catalog item, when the played title is one of the catalog's items.
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<PlaylistItem<'a>>,
}

/// Sessions playing now on every media server, for now-playing screens, as far as the caller's
/// settings let it show them: a paired screen's merged settings, else the global settings.
/// The list is empty while `cinema.now_playing` is off. `server_time_ms` is the server's clock
/// when the response was made, so a screen can advance a playing session's position.
async fn now_playing(
    _viewer: DisplayViewer,
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let ip = client.map(|Extension(client)| client.ip);
    let settings = caller_settings(&state, ip, &headers).await;
    let rule = &settings.cinema;
    let sessions = if rule.now_playing {
        state.now_playing.sessions()
    } else {
        Vec::new()
    };
    let snapshot = state.catalog.snapshot();
    let views: Vec<NowPlayingView<'_>> = sessions
        .iter()
        .filter(|session| rule.shows_session(session.player.as_deref(), session.user.as_deref()))
        .map(|session| {
            let id = onesheet_domain::ItemId::derive(&session.source, &session.item.upstream_key);
            NowPlayingView {
                source: session.source.as_str(),
                session_id: &session.session_id,
                player: session.player.as_deref(),
                title: &session.item.title,
                kind: session.item.kind,
                year: session.item.year,
                state: session.state,
                position_ms: session.position_ms,
                duration_ms: session.duration_ms,
                item: snapshot
                    .get(&id)
                    .and_then(|item| project(item, &state.base_path)),
            }
        })
        .collect();
    // NOTE: positions are as of the source's last session poll, which the hub does not time,
    // so a screen that advances them from `server_time_ms` runs up to one poll behind.
    let body = serde_json::json!({ "sessions": views, "server_time_ms": now_ms() });
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Returns the settings of the requesting screen: its merged settings when it sends a valid
/// device credential, else the global settings.
async fn caller_settings(
    state: &AppState,
    ip: Option<IpAddr>,
    headers: &HeaderMap,
) -> DisplaySettings {
    let global = || state.settings.load().settings.clone();
    let (Some(devices), Some(credential)) =
        (&state.devices, DeviceCredential::from_headers(headers))
    else {
        return global();
    };
    let Ok(device) = devices.verify_credential(ip, &credential).await else {
        return global();
    };
    match devices.settings_for_id(&device).await {
        Ok(settings) => settings,
        Err(error) => {
            tracing::warn!(device.id = %device, %error, "cannot read the device's settings; applying the global now-playing rule");
            global()
        }
    }
}

#[derive(Deserialize)]
struct PlaylistParams {
    mode: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    /// A preset whose filter applies to a screen without a device identity, as its settings
    /// do through `/api/v1/display-settings?preset=ID`.
    preset: Option<String>,
}

/// One page of the playlist: a slim projection of each item, with Onesheet image URLs only.
#[derive(Serialize)]
struct PlaylistPage<'a> {
    generation: u64,
    total: usize,
    next_cursor: Option<String>,
    /// The synchronised group's clock, for a screen in such a group. Item `i` of the page is
    /// then the item of slot `first_slot + i`.
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<ScheduleView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_slot: Option<u64>,
    items: Vec<PlaylistItem<'a>>,
}

/// When each item of a synchronised group's playlist is shown: slot `n` starts at
/// `anchor_ms + n * interval_ms` in server time and lasts one interval.
#[derive(Serialize)]
struct ScheduleView {
    anchor_ms: i64,
    interval_ms: u64,
}

#[derive(Serialize)]
struct PlaylistItem<'a> {
    id: &'a str,
    kind: MediaKind,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    year: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tagline: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    overview: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    genres: &'a [String],
    /// Audience rating on a 0 to 10 scale, else the critic rating.
    #[serde(skip_serializing_if = "Option::is_none")]
    rating: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_rating: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_minutes: Option<u32>,
    demo: bool,
    /// Resolution, HDR, Dolby Vision and Atmos, for the cinema badges. Left out when the
    /// source reported none of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    badges: Option<&'a Badges>,
    images: ImageUrls,
    /// Dominant colours as `#rrggbb`, most area first: the poster's, else the background's.
    /// Left out until the catalog has computed them.
    #[serde(skip_serializing_if = "Option::is_none")]
    palette: Option<&'a [Rgb]>,
    /// The poster's ThumbHash in base64, for a blurred preview while the poster loads.
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbhash: Option<&'a str>,
}

#[derive(Serialize, Default)]
struct ImageUrls {
    #[serde(skip_serializing_if = "Option::is_none")]
    poster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    background: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logo: Option<String>,
    /// A QR code (SVG) leading to the item's trailer or its IMDb or TMDB page, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    qr: Option<String>,
}

async fn playlist(
    _viewer: DisplayViewer,
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    params: Result<Query<PlaylistParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|rejection| {
        FieldError::new(
            "query",
            format!("invalid query string: {}", rejection.body_text()),
        )
    })?;
    let query = PlaylistQuery::parse(
        params.mode.as_deref(),
        params.limit.as_deref(),
        params.cursor.as_deref(),
    )?;

    let preset = params.preset.as_deref().map(find_preset).transpose()?;

    let ip = client.map(|Extension(client)| client.ip);
    let (share, mut screen_filter) = screen_view(&state, ip, &headers).await;
    if screen_filter.is_none()
        && let Some(preset) = preset
    {
        screen_filter = preset_filter(&state, preset).map(Arc::new);
    }
    let snapshot = state.catalog.snapshot();
    // Dealing and schedules work on the screen's own order, so members of one group share
    // items only as far as their filters do.
    let filtered = filtered_order(&state, &snapshot, screen_filter.as_deref());
    let (order, order_revision) = match &filtered {
        Some(filtered) => (filtered.order.as_slice(), filtered.revision),
        None => (snapshot.order.as_slice(), snapshot.revision),
    };
    let deal = match share {
        Share::Dealt(deal) => deal,
        // Only the screensaver follows a schedule. Other pages of the group page through the
        // whole playlist.
        Share::Synchronised(_) if query.mode != DisplayMode::Screensaver => Deal::WHOLE,
        Share::Synchronised(schedule) => {
            let page =
                render_synchronised_page(&snapshot, order, &state.base_path, schedule, &query)?;
            return Ok(page_response(&headers, page));
        }
    };
    let shown = deal.len(order.len());
    let start = query.start_offset(snapshot.generation).min(shown);
    let end = (start + query.limit).min(shown);

    let key = (
        order_revision,
        query.mode,
        query.limit,
        start,
        deal.slot,
        deal.count,
    );
    let page = match state.playlist_pages.get(&key) {
        Some(page) => page,
        None => {
            let page = render_page(&snapshot, order, &state.base_path, deal, start, end)?;
            state.playlist_pages.insert(key, page.clone());
            page
        }
    };

    Ok(page_response(&headers, page))
}

fn page_response(headers: &HeaderMap, page: RenderedPage) -> Response {
    if if_none_match(headers, &page.etag) {
        return not_modified(&page.etag);
    }
    if accepts_gzip(headers) {
        let mut response = json_response(page.gzip, &page.etag);
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        return response;
    }
    json_response(page.body, &page.etag)
}

/// Returns the share of the playlist the requesting screen shows and its own filter settings,
/// when it sends a valid device credential: its part of a distinct group's playlist or a
/// synchronised group's schedule. Other screens get the whole playlist and no filter of
/// their own.
async fn screen_view(
    state: &AppState,
    ip: Option<IpAddr>,
    headers: &HeaderMap,
) -> (Share, Option<Arc<ScreenFilter>>) {
    let (Some(devices), Some(credential)) =
        (&state.devices, DeviceCredential::from_headers(headers))
    else {
        return (Share::WHOLE, None);
    };
    match devices.verify_credential(ip, &credential).await {
        Ok(device) => (
            devices.share(&device).await,
            devices.screen_filter(&device).await,
        ),
        Err(_) => (Share::WHOLE, None),
    }
}

/// Returns the filter settings of the global settings with `preset` laid over them, or None when
/// the two do not merge, which the settings route reports.
fn preset_filter(state: &AppState, preset: &Preset) -> Option<ScreenFilter> {
    let global = state.settings.load();
    let merged = merge(&global.settings, &[&preset.overrides()]).ok()?;
    Some(ScreenFilter {
        filter: merged.filter,
        rules: merged.filter_rules,
    })
}

/// Returns the screen's own display order when the filter in force for it now differs from
/// the global filter, else None, and the snapshot's order applies. The filter in force is the
/// screen's merged filter, or the global one for an unpaired screen, with the filter rules
/// active at the server's local time laid over it.
///
/// The usual case, with no rules and no filter of the screen's own, reads no clock and
/// allocates nothing.
///
/// NOTE: a cursor carries only the generation and an offset, so a screen whose filter changes
/// while it pages continues at the same offset of its new order, and may skip or repeat items
/// in that pass.
pub(super) fn filtered_order(
    state: &AppState,
    snapshot: &Snapshot,
    screen: Option<&ScreenFilter>,
) -> Option<Arc<FilteredOrder>> {
    let global = state.settings.load();
    let global_filter = &global.settings.filter;
    let (filter, rules) = match screen {
        Some(screen) => (&screen.filter, screen.rules.as_slice()),
        None => (global_filter, global.settings.filter_rules.as_slice()),
    };
    if rules.is_empty() {
        let is_global = std::ptr::eq(filter, global_filter) || filter == global_filter;
        return (!is_global).then(|| state.catalog.order_for(snapshot, filter));
    }
    let effective = filter_at(filter, rules, (state.time_of_day)());
    (*effective != *global_filter).then(|| state.catalog.order_for(snapshot, &effective))
}

/// Serialises one page of a synchronised group's playlist: the items of the slots from the
/// cursor's on, or without a cursor from the slot running now, so a screen that starts late
/// fetches no page it will never show. The playlist has no end: the slots wrap around the
/// order. A cursor of another generation starts from the slot running now as well.
///
/// These pages skip the page cache, because their first slot changes with every interval and
/// only the few screens of synchronised groups request them.
fn render_synchronised_page(
    snapshot: &Snapshot,
    order: &[u32],
    base: &BasePath,
    schedule: Schedule,
    query: &PlaylistQuery,
) -> Result<RenderedPage, ApiError> {
    let len = order.len();
    let first_slot = match query.cursor {
        Some(cursor) if cursor.generation == snapshot.generation => cursor.offset as u64,
        _ => schedule.slot_at(now_ms()),
    };
    let slots = if len == 0 { 0 } else { query.limit as u64 };
    let end = first_slot.saturating_add(slots);
    // NOTE: an item without an id would be left out and shift the later items of the page
    // by one slot. Published catalog items all have ids.
    let items = (first_slot..end)
        .filter_map(|slot| Schedule::position(slot, len))
        .filter_map(|position| project(&snapshot.items[order[position] as usize], base))
        .collect();
    let next_cursor = usize::try_from(end).ok().filter(|_| len > 0).map(|offset| {
        Cursor {
            generation: snapshot.generation,
            offset,
        }
        .encode()
    });
    let page = PlaylistPage {
        generation: snapshot.generation,
        total: snapshot.items.len(),
        next_cursor,
        schedule: Some(ScheduleView {
            anchor_ms: schedule.anchor_ms,
            interval_ms: schedule.interval_ms(),
        }),
        first_slot: Some(first_slot),
        items,
    };
    serialise_page(&page)
}

/// Serialises one page. Its ETag is a hash of the bytes, so it can never name other content,
/// even when a lost catalog file makes a generation number come round again. The tag is weak
/// because compression changes the bytes of one representation.
fn render_page(
    snapshot: &Snapshot,
    order: &[u32],
    base: &BasePath,
    deal: Deal,
    start: usize,
    end: usize,
) -> Result<RenderedPage, ApiError> {
    let page = PlaylistPage {
        generation: snapshot.generation,
        total: snapshot.items.len(),
        next_cursor: (end < deal.len(order.len())).then(|| {
            Cursor {
                generation: snapshot.generation,
                offset: end,
            }
            .encode()
        }),
        schedule: None,
        first_slot: None,
        items: (start..end)
            .map(|index| order[deal.position(index)])
            .filter_map(|position| project(&snapshot.items[position as usize], base))
            .collect(),
    };
    serialise_page(&page)
}

fn serialise_page(page: &PlaylistPage<'_>) -> Result<RenderedPage, ApiError> {
    let body = serde_json::to_vec(page).map_err(ApiError::internal)?;
    let etag = format!("W/\"{:016x}\"", fnv1a(&body));
    let gzip = gzip(&body).map_err(ApiError::internal)?;
    Ok(RenderedPage {
        body: Bytes::from(body),
        gzip,
        etag: Arc::from(etag),
    })
}

fn project<'a>(item: &'a MediaItem, base: &BasePath) -> Option<PlaylistItem<'a>> {
    let id = item.id.as_ref()?;
    let appearance = |kind: ImageKind| item.images.get(kind)?.appearance.as_ref();
    // A poster without an opaque pixel has an empty palette, but the background may have one.
    let palette = [ImageKind::Poster, ImageKind::Background]
        .into_iter()
        .filter_map(appearance)
        .map(|appearance| appearance.palette.as_slice())
        .find(|palette| !palette.is_empty());
    let url = |kind: ImageKind| {
        item.images.get(kind).map(|image| {
            format!(
                "{}/img/{id}/{}?v={}",
                base.as_str(),
                kind.as_str(),
                url_safe(&image.version)
            )
        })
    };
    Some(PlaylistItem {
        id: id.as_str(),
        kind: item.kind,
        title: &item.title,
        year: item.year,
        tagline: item.tagline.as_deref(),
        overview: item.overview.as_deref(),
        genres: &item.genres,
        rating: item.ratings.audience.or(item.ratings.critic),
        content_rating: item.content_rating.as_deref(),
        runtime_minutes: item.runtime_minutes,
        demo: item.demo,
        badges: (item.badges != Badges::default()).then_some(&item.badges),
        images: ImageUrls {
            poster: url(ImageKind::Poster),
            background: url(ImageKind::Background),
            logo: url(ImageKind::Logo),
            qr: public_link(item).map(|_| qr::qr_url(base.as_str(), id.as_str())),
        },
        palette,
        thumbhash: appearance(ImageKind::Poster).map(|appearance| appearance.thumbhash.as_str()),
    })
}

/// Keeps a version token safe inside a query string whatever a source put in it.
fn url_safe(version: &str) -> String {
    version
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect()
}

#[derive(Serialize)]
struct DisplaySettingsBody<'a> {
    #[serde(flatten)]
    settings: &'a DisplaySettings,
    /// Lets a screen with a wrong clock show the right time and schedule.
    server_time_ms: u128,
    /// The server's offset from UTC now, in minutes east, so a screen can evaluate
    /// `display.sleep` in the server's time zone.
    server_utc_offset_minutes: i32,
}

/// Query of `GET /api/v1/display-settings`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisplaySettingsParams {
    /// A preset laid over the global settings, for a page opened with `?preset=ID`.
    preset: Option<String>,
}

/// Only what a screen needs: the display settings and the server's clock.
async fn display_settings(
    _viewer: DisplayViewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<DisplaySettingsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|rejection| {
        FieldError::new(
            "query",
            format!("invalid query string: {}", rejection.body_text()),
        )
    })?;
    let preset = params.preset.as_deref().map(find_preset).transpose()?;

    let tagged = state.settings.load();
    // The offset is part of the tag, so a daylight-saving change reaches screens as a new
    // document instead of a 304.
    let utc_offset_minutes = local_utc_offset_minutes();
    let etag = match preset {
        Some(preset) => format!("W/\"s{}-{}-z{utc_offset_minutes}\"", tagged.tag, preset.id),
        None => format!("W/\"s{}-z{utc_offset_minutes}\"", tagged.tag),
    };
    if if_none_match(&headers, &etag) {
        return Ok(not_modified(&etag));
    }
    let merged;
    let settings = match preset {
        Some(preset) => {
            // A preset sets whole groups of keys, so it clashes with the global settings only
            // through a cross-field rule, which the admin must resolve.
            merged = merge(&tagged.settings, &[&preset.overrides()]).map_err(|errors| {
                tracing::warn!(preset = preset.id, %errors, "a preset does not fit the global settings");
                ApiError::Conflict {
                    message: format!(
                        "the preset {} does not fit the current settings: {errors}",
                        preset.id
                    ),
                }
            })?;
            &merged
        }
        None => &tagged.settings,
    };
    let body = DisplaySettingsBody {
        settings,
        server_time_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0),
        server_utc_offset_minutes: utc_offset_minutes,
    };
    let body = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    Ok(json_response(Bytes::from(body), &etag))
}

/// Returns the server's offset from UTC now, in minutes east, in the time zone that
/// [`crate::state::local_time_of_day`] uses.
fn local_utc_offset_minutes() -> i32 {
    jiff::Zoned::now().offset().seconds() / 60
}

/// Returns the wall clock in unix milliseconds.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

fn json_response(body: Bytes, etag: &str) -> Response {
    let mut response = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            // Screens revalidate every time; the ETag makes that a cheap 304.
            (header::CACHE_CONTROL, "no-cache"),
            (header::VARY, "accept-encoding"),
        ],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

fn not_modified(etag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

#[cfg(test)]
mod tests {
    use onesheet_domain::media::ImageAppearance;
    use onesheet_domain::{ImageRef, ItemImages, SourceId};

    use super::*;

    fn with_appearance(palette: Vec<Rgb>, thumbhash: &str) -> Option<ImageRef> {
        Some(ImageRef {
            appearance: Some(ImageAppearance {
                palette,
                thumbhash: thumbhash.to_owned(),
            }),
            ..ImageRef::new("key", "v1")
        })
    }

    fn item(images: ItemImages) -> MediaItem {
        let mut item = MediaItem {
            upstream_key: "key".to_owned(),
            title: "Alien".to_owned(),
            images,
            ..MediaItem::default()
        };
        item.assign_identity(&SourceId::new("local").unwrap());
        item
    }

    #[test]
    fn palette_falls_back_to_the_background() {
        let background = Rgb::new(1, 2, 3);
        let item = item(ItemImages {
            // A fully transparent poster has no colours but does have a placeholder.
            poster: with_appearance(Vec::new(), "AAAA"),
            background: with_appearance(vec![background], "BBBB"),
            ..ItemImages::default()
        });
        let projected = project(&item, &BasePath::new("").unwrap()).unwrap();
        assert_eq!(projected.palette, Some([background].as_slice()));
        assert_eq!(projected.thumbhash, Some("AAAA"));
    }

    #[test]
    fn thumbhash_comes_only_from_the_poster() {
        let item = item(ItemImages {
            poster: Some(ImageRef::new("key", "v1")),
            background: with_appearance(vec![Rgb::new(1, 2, 3)], "BBBB"),
            ..ItemImages::default()
        });
        let projected = project(&item, &BasePath::new("").unwrap()).unwrap();
        assert!(projected.palette.is_some());
        assert_eq!(projected.thumbhash, None);

        let json = serde_json::to_value(&projected).unwrap();
        assert_eq!(json["palette"], serde_json::json!(["#010203"]));
        assert!(json.get("thumbhash").is_none(), "{json}");
    }

    #[test]
    fn badges_appear_only_when_reported() {
        let plain = item(ItemImages::default());
        let mut remastered = item(ItemImages::default());
        remastered.badges = Badges {
            resolution: Some("4K".to_owned()),
            dolby_vision: true,
            ..Badges::default()
        };
        let base = BasePath::new("").unwrap();

        let plain = serde_json::to_value(project(&plain, &base).unwrap()).unwrap();
        let remastered = serde_json::to_value(project(&remastered, &base).unwrap()).unwrap();

        assert!(plain.get("badges").is_none(), "{plain}");
        assert_eq!(remastered["badges"]["resolution"], "4K");
        assert_eq!(remastered["badges"]["dolby_vision"], true);
        assert_eq!(remastered["badges"]["atmos"], false);
    }
}
