//! Routes of the Jellyfin and Emby fakes and their handlers.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tracing::warn;

use crate::images::{self, ImageEncoding, fit_within};
use crate::library::{ImageShape, ItemKind};
use crate::sessions::PlayingItem;

use super::dto::{self, DtoOptions, unix_date_time};
use super::ids::{ItemRef, Resolved};
use super::listing;
use super::query::Params;
use super::{Flavour, JellyfinState, auth};

/// Path segments the fake routes, in the case the routes use. Requests may use any case.
const ROUTE_SEGMENTS: [&str; 11] = [
    "System",
    "Info",
    "Public",
    "Ping",
    "Library",
    "VirtualFolders",
    "Items",
    "Users",
    "Sessions",
    "Images",
    "emby",
];

/// Rewrites known path segments to the case the routes use, so `/items` reaches `/Items`, as
/// ASP.NET routing ignores case. Returns `None` when nothing changes.
pub(super) fn canonical_path(path: &str) -> Option<String> {
    let mut changed = false;
    let segments: Vec<&str> = path
        .split('/')
        .map(|segment| {
            match ROUTE_SEGMENTS
                .iter()
                .find(|known| known.eq_ignore_ascii_case(segment))
            {
                Some(known) if *known != segment => {
                    changed = true;
                    *known
                }
                _ => segment,
            }
        })
        .collect();
    changed.then(|| segments.join("/"))
}

pub(super) fn router(state: Arc<JellyfinState>) -> Router {
    let protected = Router::new()
        .route("/System/Info", get(system_info))
        .route("/Library/VirtualFolders", get(virtual_folders))
        .route("/Items", get(items))
        .route("/Items/{item_id}", get(item))
        .route("/Users", get(users))
        .route("/Users/{user_id}/Items", get(user_items))
        .route("/Users/{user_id}/Items/{item_id}", get(user_item))
        .route("/Sessions", get(sessions))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_auth));

    let mut images = Router::new()
        .route("/Items/{item_id}/Images/{image_type}", get(image))
        .route(
            "/Items/{item_id}/Images/{image_type}/{image_index}",
            get(indexed_image),
        );
    if state.images_require_auth {
        images = images.route_layer(middleware::from_fn_with_state(state.clone(), require_auth));
    }

    Router::new()
        .route("/System/Info/Public", get(public_system_info))
        .route("/System/Ping", get(ping))
        .merge(protected)
        .merge(images)
        .fallback(not_found)
        .with_state(state)
}

async fn require_auth(
    State(state): State<Arc<JellyfinState>>,
    request: Request,
    next: Next,
) -> Response {
    let params = Params::parse(request.uri().query());
    let key = state.control.token();
    let legacy = state.control.legacy_auth();
    if auth::is_authorised(state.flavour, legacy, &key, request.headers(), &params) {
        return next.run(request).await;
    }
    match state.flavour {
        // Jellyfin responds to a missing or rejected key with 401 and an empty body.
        Flavour::Jellyfin => StatusCode::UNAUTHORIZED.into_response(),
        Flavour::Emby => (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Access token is invalid or expired.",
        )
            .into_response(),
    }
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// Builds a JSON response with the content type both servers send.
fn json_response(value: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

fn with_unknown_field(state: &JellyfinState, mut value: Value) -> Value {
    if state.unknown_fields
        && let Value::Object(map) = &mut value
    {
        map.insert("FieldFromNewerServer".to_owned(), json!({"Flag": true}));
    }
    value
}

async fn ping(State(state): State<Arc<JellyfinState>>) -> Response {
    let name = match state.flavour {
        Flavour::Jellyfin => "Jellyfin Server",
        Flavour::Emby => "Emby Server",
    };
    json_response(Value::String(name.to_owned()))
}

fn public_info(state: &JellyfinState) -> serde_json::Map<String, Value> {
    let identity = &state.identity;
    let mut info = serde_json::Map::new();
    info.insert(
        "LocalAddress".to_owned(),
        identity
            .local_address
            .get()
            .cloned()
            .unwrap_or_default()
            .into(),
    );
    info.insert("ServerName".to_owned(), identity.server_name.clone().into());
    info.insert("Version".to_owned(), identity.version.clone().into());
    if let Some(product) = &identity.product_name {
        info.insert("ProductName".to_owned(), product.clone().into());
    }
    info.insert("Id".to_owned(), identity.server_id.clone().into());
    match state.flavour {
        Flavour::Jellyfin => {
            info.insert("OperatingSystem".to_owned(), "Linux".into());
            info.insert("StartupWizardCompleted".to_owned(), true.into());
        }
        Flavour::Emby => {
            info.insert("WanAddress".to_owned(), "".into());
            info.insert("LocalAddresses".to_owned(), json!([]));
            info.insert("RemoteAddresses".to_owned(), json!([]));
        }
    }
    info
}

async fn public_system_info(State(state): State<Arc<JellyfinState>>) -> Response {
    json_response(with_unknown_field(
        &state,
        Value::Object(public_info(&state)),
    ))
}

async fn system_info(State(state): State<Arc<JellyfinState>>) -> Response {
    let mut info = public_info(&state);
    let extra = json!({
        "OperatingSystemDisplayName": "Linux",
        "HasPendingRestart": false,
        "IsShuttingDown": false,
        "SupportsLibraryMonitor": true,
        "WebSocketPortNumber": 8096,
        "CompletedInstallations": [],
        "CanSelfRestart": false,
        "CanLaunchWebBrowser": false,
        "HasUpdateAvailable": false,
        "SystemArchitecture": "X64",
    });
    if let Value::Object(extra) = extra {
        info.extend(extra);
    }
    json_response(with_unknown_field(&state, Value::Object(info)))
}

async fn virtual_folders(State(state): State<Arc<JellyfinState>>) -> Response {
    let folders: Vec<Value> = state
        .libraries
        .iter()
        .enumerate()
        .map(|(index, library)| {
            let collection_type = match library.kind() {
                crate::library::LibraryKind::Movies => "movies",
                crate::library::LibraryKind::Shows => "tvshows",
                crate::library::LibraryKind::Music => "music",
                crate::library::LibraryKind::Photos => "homevideos",
            };
            let id = state.ids.library_id(index);
            let mut folder = json!({
                "Name": library.name(),
                "Locations": [format!("/media/{}", library.name().to_lowercase().replace(' ', "-"))],
                "CollectionType": collection_type,
                "LibraryOptions": {
                    "Enabled": true,
                    "EnableRealtimeMonitor": true,
                    "PathInfos": [],
                },
                "ItemId": id,
                "PrimaryImageItemId": id,
                "RefreshStatus": "Idle",
            });
            if state.flavour == Flavour::Emby
                && let Value::Object(map) = &mut folder {
                    map.insert("Id".to_owned(), Value::String(id));
                }
            with_unknown_field(&state, folder)
        })
        .collect();
    json_response(Value::Array(folders))
}

async fn items(State(state): State<Arc<JellyfinState>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let user_context = params.get("UserId").is_some();
    json_response(listing::query_result(&state, &params, user_context))
}

async fn user_items(
    State(state): State<Arc<JellyfinState>>,
    Path(_user_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref());
    json_response(listing::query_result(&state, &params, true))
}

fn single_item(state: &JellyfinState, item_id: &str, user_context: bool) -> Response {
    match state.ids.resolve(item_id) {
        Some(Resolved::Item(item_ref)) => json_response(dto::item(
            state,
            item_ref,
            &DtoOptions::all_fields(user_context),
        )),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn item(State(state): State<Arc<JellyfinState>>, Path(item_id): Path<String>) -> Response {
    single_item(&state, &item_id, false)
}

async fn user_item(
    State(state): State<Arc<JellyfinState>>,
    Path((_user_id, item_id)): Path<(String, String)>,
) -> Response {
    single_item(&state, &item_id, true)
}

async fn users(State(state): State<Arc<JellyfinState>>) -> Response {
    let identity = &state.identity;
    let user = json!({
        "Name": identity.user_name,
        "ServerId": identity.server_id,
        "Id": identity.user_id,
        "HasPassword": true,
        "HasConfiguredPassword": true,
        "EnableAutoLogin": false,
        "Policy": {"IsAdministrator": true, "IsDisabled": false, "IsHidden": false},
        "Configuration": {"PlayDefaultAudioTrack": true},
    });
    json_response(Value::Array(vec![with_unknown_field(&state, user)]))
}

async fn sessions(State(state): State<Arc<JellyfinState>>) -> Response {
    let identity = &state.identity;
    let sessions: Vec<Value> = state
        .control
        .sessions()
        .iter()
        .enumerate()
        .map(|(index, session)| {
            let session_id = format!("{:032x}", 0xC0FFEE_u64 + index as u64);
            let now_playing = now_playing_item(&state, &session.item, index);
            let position_ticks = session.position.as_millis() as u64 * 10_000;
            let mut value = json!({
                "PlayState": with_unknown_field(&state, json!({
                    "PositionTicks": position_ticks,
                    "CanSeek": true,
                    "IsPaused": session.paused,
                    "IsMuted": false,
                    "VolumeLevel": 100,
                    "PlayMethod": "DirectPlay",
                    "RepeatMode": "RepeatNone",
                    "PlaybackOrder": "Default",
                })),
                "AdditionalUsers": [],
                "PlayableMediaTypes": ["Video", "Audio"],
                "Id": session_id,
                "UserId": identity.user_id,
                "UserName": session.user,
                "Client": session.client,
                "LastActivityDate": unix_date_time(1_700_000_000),
                "LastPlaybackCheckIn": unix_date_time(1_700_000_000),
                "DeviceName": session.device,
                "DeviceId": format!("device-{index}"),
                "ApplicationVersion": identity.version,
                "IsActive": true,
                "SupportsMediaControl": true,
                "SupportsRemoteControl": true,
                "HasCustomDeviceName": false,
                "ServerId": identity.server_id,
                "SupportedCommands": [],
            });
            if let (Some(item), Value::Object(map)) = (now_playing, &mut value) {
                map.insert("NowPlayingItem".to_owned(), item);
            }
            with_unknown_field(&state, value)
        })
        .collect();
    json_response(Value::Array(sessions))
}

/// `NowPlayingItem` of a session: a full item, or a trailer or pre-roll that clients showing
/// "now playing" should skip.
fn now_playing_item(state: &JellyfinState, item: &PlayingItem, index: usize) -> Option<Value> {
    let extra = |title: &str, kind: &str, extra_type: Option<&str>| {
        let mut value = json!({
            "Name": title,
            "ServerId": state.identity.server_id,
            "Id": format!("{:032x}", 0xE8_u64 + index as u64),
            "Type": kind,
            "IsFolder": false,
            "MediaType": "Video",
            "RunTimeTicks": 1_500_000_000_u64,
            "ImageTags": {},
            "BackdropImageTags": [],
        });
        if let (Some(extra_type), Value::Object(map)) = (extra_type, &mut value) {
            map.insert("ExtraType".to_owned(), extra_type.into());
        }
        with_unknown_field(state, value)
    };
    match item {
        PlayingItem::Library { library, position } => {
            let exists = state
                .libraries
                .get(*library)
                .is_some_and(|library| *position < library.items().len());
            exists.then(|| {
                dto::item(
                    state,
                    ItemRef {
                        library: *library,
                        position: *position,
                    },
                    &DtoOptions::all_fields(true),
                )
            })
        }
        PlayingItem::Trailer { title } => Some(extra(title, "Trailer", Some("Trailer"))),
        // NOTE: cinema-mode intros come from plugins and have no fixed type; a plain `Video`
        // without provider ids is the common shape.
        PlayingItem::PreRoll { title } => Some(extra(title, "Video", None)),
        PlayingItem::Nothing => None,
    }
}

/// Image type segment as Jellyfin's `ImageType` enum names it.
fn image_type(segment: &str) -> Option<&'static str> {
    [
        "Primary", "Backdrop", "Logo", "Thumb", "Banner", "Art", "Disc",
    ]
    .into_iter()
    .find(|known| known.eq_ignore_ascii_case(segment))
}

async fn image(
    State(state): State<Arc<JellyfinState>>,
    Path((item_id, image_type)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref());
    let index = params.number("ImageIndex").unwrap_or(0);
    serve_image(&state, &item_id, &image_type, index, &params).await
}

async fn indexed_image(
    State(state): State<Arc<JellyfinState>>,
    Path((item_id, image_type, image_index)): Path<(String, String, u64)>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref());
    serve_image(&state, &item_id, &image_type, image_index, &params).await
}

fn image_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        json!({"type": "https://tools.ietf.org/html/rfc9110#section-15.5.5", "title": "Not Found", "status": 404}).to_string(),
    )
        .into_response()
}

async fn serve_image(
    state: &JellyfinState,
    item_id: &str,
    image_type_segment: &str,
    index: u64,
    params: &Params,
) -> Response {
    let Some(Resolved::Item(item_ref)) = state.ids.resolve(item_id) else {
        return image_not_found();
    };
    let item = &state.libraries[item_ref.library].items()[item_ref.position];
    let sizes = state.image_sizes;
    let (poster_width, poster_height) = sizes.poster;

    let (original, encoding) = match image_type(image_type_segment) {
        Some("Primary") if index == 0 && item.images.primary.exists() => {
            let size = match item.images.primary_shape {
                ImageShape::Poster => sizes.poster,
                ImageShape::Landscape => (poster_height, poster_height * 9 / 16),
                ImageShape::Square => (poster_width, poster_width),
            };
            (size, ImageEncoding::Jpeg)
        }
        Some("Backdrop") if index < u64::from(item.images.backdrops) => {
            (sizes.backdrop, ImageEncoding::Jpeg)
        }
        Some("Logo") if index == 0 && item.images.logo.exists() => (sizes.logo, ImageEncoding::Png),
        _ => return image_not_found(),
    };

    let (width, height) = requested_size(original, params);
    let encoding = match params.get("Format").map(str::to_ascii_lowercase).as_deref() {
        Some("png") => ImageEncoding::Png,
        Some("jpg" | "jpeg") => ImageEncoding::Jpeg,
        _ => encoding,
    };
    // Each item and image type keeps its colour, so tests can tell images apart.
    let colour = item.key + index + u64::from(item.kind == ItemKind::Episode);

    match images::render(width, height, colour, encoding).await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(encoding.content_type()),
            );
            if params.get("tag").is_some() {
                headers.insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static("public, max-age=31536000"),
                );
            }
            response
        }
        Err(error) => {
            warn!(%error, "fake server could not render an image");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Output size for Jellyfin's image parameters: `Width` and `Height` set the size (one of them
/// keeps the ratio), `FillWidth` and `FillHeight` cover a box, `MaxWidth` and `MaxHeight` fit
/// one. The original is never enlarged.
fn requested_size(original: (u32, u32), params: &Params) -> (u32, u32) {
    let value = |name: &str| {
        params
            .number(name)
            .and_then(|value| u32::try_from(value).ok())
            .filter(|value| *value > 0)
    };
    let (width, height) = (f64::from(original.0), f64::from(original.1));

    match (value("Width"), value("Height")) {
        (Some(w), Some(h)) => return (w.min(original.0), h.min(original.1)),
        (Some(w), None) => return fit_within(original, Some(w), None),
        (None, Some(h)) => return fit_within(original, None, Some(h)),
        (None, None) => {}
    }
    if let (Some(fill_width), Some(fill_height)) = (value("FillWidth"), value("FillHeight")) {
        let factor = (f64::from(fill_width) / width)
            .max(f64::from(fill_height) / height)
            .min(1.0);
        return (
            ((width * factor).round() as u32).max(1),
            ((height * factor).round() as u32).max(1),
        );
    }
    fit_within(original, value("MaxWidth"), value("MaxHeight"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_path_fixes_case_of_known_segments() {
        assert_eq!(
            canonical_path("/items/abc/images/primary").as_deref(),
            Some("/Items/abc/Images/primary")
        );
        assert_eq!(canonical_path("/Items"), None);
        assert_eq!(
            canonical_path("/EMBY/system/info/public").as_deref(),
            Some("/emby/System/Info/Public")
        );
    }

    #[test]
    fn requested_size_follows_parameters() {
        let params = |query: &str| Params::parse(Some(query));
        assert_eq!(
            requested_size((600, 900), &params("maxWidth=300")),
            (300, 450)
        );
        assert_eq!(
            requested_size((600, 900), &params("fillWidth=100&fillHeight=100")),
            (100, 150)
        );
        assert_eq!(
            requested_size((600, 900), &params("width=200&height=50")),
            (200, 50)
        );
        assert_eq!(
            requested_size((600, 900), &params("maxWidth=5000")),
            (600, 900)
        );
    }
}
