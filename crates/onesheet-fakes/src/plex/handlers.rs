//! Routes of the Plex fake and their handlers.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};
use tracing::warn;

use crate::images::{self, ImageEncoding, MAX_SIDE};
use crate::library::{ImageShape, Item, ItemKind, LibraryKind};
use crate::sessions::PlayingItem;

use super::metadata::{self, Object, RenderOptions};
use super::respond::{CONTAINER_SIZE, CONTAINER_START, container, html_error, paged_container};
use super::{KeyTarget, PlexState};

/// Sorted listings kept before the cache starts over.
const MAX_CACHED_LISTINGS: usize = 128;

const TOKEN: &str = "X-Plex-Token";

pub(super) fn router(state: Arc<PlexState>) -> Router {
    // `/photo/:/transcode` has a literal `:` segment, which axum 0.8 rejects unless its checks
    // for the older capture syntax are off.
    let protected = Router::new()
        .without_v07_checks()
        .route("/", get(root))
        .route("/library/sections", get(sections))
        .route("/library/sections/all", get(sections))
        .route("/library/sections/{section}/all", get(section_all))
        .route(
            "/library/sections/{section}/collections",
            get(section_collections),
        )
        .route(
            "/library/collections/{collection}/children",
            get(collection_items),
        )
        .route(
            "/library/collections/{collection}/items",
            get(collection_items),
        )
        .route("/library/metadata/{key}", get(item_detail))
        .route("/library/metadata/{key}/children", get(item_children))
        .route(
            "/library/metadata/{key}/{image_kind}/{version}",
            get(artwork),
        )
        .route("/playlists", get(playlists))
        .route("/playlists/{playlist}/items", get(playlist_items))
        .route("/status/sessions", get(sessions))
        .route("/photo/:/transcode", get(transcode))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));

    Router::new()
        .without_v07_checks()
        .route("/identity", get(identity))
        .merge(protected)
        .fallback(not_found)
        .with_state(state)
}

type Query = Vec<(String, String)>;

fn parse_query(raw: Option<&str>) -> Query {
    raw.map(|raw| {
        url::form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

fn param<'a>(query: &'a Query, name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Reads a header, or else the query parameter of the same name, as Plex reads `X-Plex-*`.
fn header_or_param<'a>(headers: &'a HeaderMap, query: &'a Query, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .or_else(|| param(query, name))
}

async fn require_token(
    State(state): State<Arc<PlexState>>,
    request: Request,
    next: Next,
) -> Response {
    let query = parse_query(request.uri().query());
    let expected = state.control.token();
    if header_or_param(request.headers(), &query, TOKEN) == Some(expected.as_str()) {
        next.run(request).await
    } else {
        html_error(StatusCode::UNAUTHORIZED)
    }
}

async fn not_found() -> Response {
    html_error(StatusCode::NOT_FOUND)
}

/// Start offset and page size of a listing; `size` is `None` for an unpaged request.
struct Page {
    start: usize,
    size: Option<usize>,
}

fn page(headers: &HeaderMap, query: &Query) -> Page {
    let number = |name: &str| {
        header_or_param(headers, query, name)?
            .trim()
            .parse::<usize>()
            .ok()
    };
    Page {
        start: number(CONTAINER_START).unwrap_or(0),
        size: number(CONTAINER_SIZE),
    }
}

/// Fields of a `MediaContainer` that describe a library section.
fn section_fields(state: &PlexState, library_index: usize) -> Map<String, Value> {
    let library = &state.libraries[library_index];
    let mut fields = Map::new();
    fields.insert("allowSync".to_owned(), true.into());
    fields.insert(
        "identifier".to_owned(),
        "com.plexapp.plugins.library".into(),
    );
    fields.insert("librarySectionID".to_owned(), (library_index + 1).into());
    fields.insert("librarySectionTitle".to_owned(), library.name().into());
    fields.insert(
        "librarySectionUUID".to_owned(),
        section_uuid(library_index).into(),
    );
    fields.insert(
        "mediaTagPrefix".to_owned(),
        "/system/bundle/media/flags/".into(),
    );
    fields.insert("mediaTagVersion".to_owned(), 1_700_000_000.into());
    fields.insert("title1".to_owned(), library.name().into());
    fields.insert("viewGroup".to_owned(), section_type(library.kind()).into());
    fields
}

fn section_uuid(library_index: usize) -> String {
    format!("0b7a5c3e-1d2f-4a6b-8c9d-{:012x}", library_index + 1)
}

/// Plex's section type for a library kind.
fn section_type(kind: LibraryKind) -> &'static str {
    match kind {
        LibraryKind::Movies => "movie",
        LibraryKind::Shows => "show",
        LibraryKind::Music => "artist",
        LibraryKind::Photos => "photo",
    }
}

/// Metadata agent and scanner of a section, as a current server sets them up.
fn section_agent(kind: LibraryKind) -> (&'static str, &'static str) {
    match kind {
        LibraryKind::Movies => ("tv.plex.agents.movie", "Plex Movie"),
        LibraryKind::Shows => ("tv.plex.agents.series", "Plex TV Series"),
        LibraryKind::Music => ("tv.plex.agents.music", "Plex Music"),
        LibraryKind::Photos => ("com.plexapp.agents.none", "Plex Photo Scanner"),
    }
}

/// Returns the type a section lists when the request names none.
fn default_type(kind: LibraryKind) -> u32 {
    match kind {
        LibraryKind::Movies => ItemKind::Movie.plex_type_number(),
        LibraryKind::Shows => ItemKind::Series.plex_type_number(),
        LibraryKind::Music => ItemKind::MusicArtist.plex_type_number(),
        LibraryKind::Photos => ItemKind::Photo.plex_type_number(),
    }
}

fn library_index(state: &PlexState, section: &str) -> Option<usize> {
    let index = section.parse::<usize>().ok()?.checked_sub(1)?;
    (index < state.libraries.len()).then_some(index)
}

/// Builds the paged container response for a slice of `Metadata`.
fn metadata_page(
    headers: &HeaderMap,
    mut fields: Map<String, Value>,
    metadata: Vec<Value>,
    offset: usize,
    total: usize,
) -> Response {
    fields.insert("size".to_owned(), metadata.len().into());
    fields.insert("totalSize".to_owned(), total.into());
    fields.insert("offset".to_owned(), offset.into());
    // Plex leaves `Metadata` out of empty containers.
    if !metadata.is_empty() {
        fields.insert("Metadata".to_owned(), Value::Array(metadata));
    }
    paged_container(
        headers,
        &json!({ "MediaContainer": Value::Object(fields) }),
        offset,
        total,
    )
}

/// Returns the `[start, end)` range of a page over `total` entries. A start past the end gives
/// an empty range, and the response still reports the requested start as its offset, as Plex
/// does.
fn page_range(page: &Page, total: usize) -> (usize, usize) {
    let start = page.start.min(total);
    let end = page
        .size
        .map_or(total, |size| start.saturating_add(size).min(total));
    (start, end)
}

async fn identity(State(state): State<Arc<PlexState>>, headers: HeaderMap) -> Response {
    let document = json!({
        "MediaContainer": {
            "size": 0,
            "claimed": true,
            "machineIdentifier": state.machine_identifier,
            "version": state.version,
        }
    });
    container(&headers, &document)
}

async fn root(State(state): State<Arc<PlexState>>, headers: HeaderMap) -> Response {
    let directories: Vec<Value> = [
        "activities",
        "butler",
        "channels",
        "library",
        "playlists",
        "status",
    ]
    .into_iter()
    .map(|key| json!({"count": 1, "key": key, "title": key}))
    .collect();
    let mut fields = Object::new();
    fields.set("size", directories.len());
    fields.set("allowCameraUpload", false);
    fields.set("allowSync", true);
    fields.set("friendlyName", state.friendly_name.clone());
    fields.set("machineIdentifier", state.machine_identifier.clone());
    fields.set("version", state.version.clone());
    fields.set("platform", "Linux");
    fields.set("platformVersion", "6.1");
    fields.set("myPlex", true);
    fields.set("myPlexSigninState", "ok");
    fields.set("multiuser", true);
    fields.set("transcoderPhoto", true);
    fields.set("transcoderVideo", true);
    fields.set("updatedAt", 1_700_000_000);
    fields.set("Directory", directories);
    let document = json!({ "MediaContainer": fields.finish(state.unknown_fields) });
    container(&headers, &document)
}

async fn sections(State(state): State<Arc<PlexState>>, headers: HeaderMap) -> Response {
    let directories: Vec<Value> = state
        .libraries
        .iter()
        .enumerate()
        .map(|(index, library)| {
            let kind = section_type(library.kind());
            let key = (index + 1).to_string();
            let mut directory = Object::new();
            directory.set("allowSync", true);
            directory.set("art", format!("/:/resources/{kind}-fanart.jpg"));
            directory.set("filters", true);
            directory.set("refreshing", false);
            directory.set("thumb", format!("/:/resources/{kind}.png"));
            directory.set("key", key);
            directory.set("type", kind);
            directory.set("title", library.name());
            let (agent, scanner) = section_agent(library.kind());
            directory.set("agent", agent);
            directory.set("scanner", scanner);
            directory.set("language", "en-US");
            directory.set("uuid", section_uuid(index));
            directory.set("updatedAt", 1_700_000_000);
            directory.set("createdAt", 1_600_000_000);
            directory.set("scannedAt", 1_700_000_000);
            directory.set("content", true);
            directory.set("directory", true);
            directory.set("contentChangedAt", 1_234_567);
            directory.set("hidden", 0);
            directory.set(
                "Location",
                vec![json!({"id": index + 1, "path": format!("/data/{}", library.name())})],
            );
            directory.finish(state.unknown_fields)
        })
        .collect();
    let document = json!({
        "MediaContainer": {
            "size": directories.len(),
            "allowSync": false,
            "title1": "Plex Library",
            "Directory": directories,
        }
    });
    container(&headers, &document)
}

async fn section_all(
    State(state): State<Arc<PlexState>>,
    Path(section): Path<String>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Response {
    let query = parse_query(raw_query.as_deref());
    let Some(library_index) = library_index(&state, &section) else {
        return html_error(StatusCode::NOT_FOUND);
    };
    let library = &state.libraries[library_index];
    let type_number = param(&query, "type")
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| default_type(library.kind()));
    let sort = param(&query, "sort").unwrap_or("titleSort");
    let listing = listing(&state, library_index, type_number, sort);

    let page = page(&headers, &query);
    if page.size.is_none() {
        // A whole huge section takes Plex many seconds to serialise.
        tokio::time::sleep(state.control.unpaged_delay()).await;
    }
    let (start, end) = page_range(&page, listing.len());
    let offset = page.start;
    let options = RenderOptions {
        streams: state.streams_in_listings,
        guids: param(&query, "includeGuids") == Some("1"),
        detail: false,
    };
    let metadata: Vec<Value> = listing[start..end]
        .iter()
        .map(|position| metadata::metadata(&state, library_index, *position, options))
        .collect();

    let mut fields = section_fields(&state, library_index);
    fields.insert(
        "title2".to_owned(),
        format!("All {}", library.name()).into(),
    );
    metadata_page(&headers, fields, metadata, offset, listing.len())
}

/// Positions of the section's items of `type_number`, sorted by `sort` (`field` or
/// `field:desc`), cached per section, type and sort.
fn listing(
    state: &PlexState,
    library_index: usize,
    type_number: u32,
    sort: &str,
) -> Arc<Vec<usize>> {
    let key = format!("{library_index}|{type_number}|{sort}");
    let lock = || {
        // Entries are inserted whole, so a poisoned lock still holds valid listings.
        state
            .listings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(cached) = lock().get(&key) {
        return cached.clone();
    }

    let library = &state.libraries[library_index];
    let items = library.items();
    let mut positions: Vec<usize> = (0..items.len())
        .filter(|position| items[*position].kind.plex_type_number() == type_number)
        .collect();
    let (field, descending) = match sort.split_once(':') {
        Some((field, direction)) => (field, direction == "desc"),
        None => (sort, false),
    };
    // Lower-cased once here rather than in every comparison, which matters at 25,000 items.
    let names: Vec<String> = items
        .iter()
        .map(|item| item.sort_title.to_lowercase())
        .collect();
    positions.sort_by(|left, right| {
        let ordering = match field {
            "titleSort" | "title" => names[*left].cmp(&names[*right]),
            _ => compare(field, &items[*left], &items[*right]),
        };
        let ordering = if descending {
            ordering.reverse()
        } else {
            ordering
        };
        ordering.then(left.cmp(right))
    });

    let positions = Arc::new(positions);
    let mut listings = lock();
    if listings.len() >= MAX_CACHED_LISTINGS {
        listings.clear();
    }
    listings.insert(key, positions.clone());
    positions
}

fn compare(field: &str, left: &Item, right: &Item) -> Ordering {
    let float = |value: Option<f64>| value.unwrap_or(f64::NEG_INFINITY);
    match field {
        "addedAt" => left.added_at.cmp(&right.added_at),
        "updatedAt" => left.updated_at.cmp(&right.updated_at),
        "year" => left.year.cmp(&right.year),
        "originallyAvailableAt" => left.premiere_date.cmp(&right.premiere_date),
        "rating" => float(left.critic_rating).total_cmp(&float(right.critic_rating)),
        "audienceRating" => float(left.community_rating).total_cmp(&float(right.community_rating)),
        // Unknown sorts keep the library order, as Plex ignores sorts it does not know.
        _ => Ordering::Equal,
    }
}

fn collection_metadata(state: &PlexState, library_index: usize, index: usize) -> Value {
    let library = &state.libraries[library_index];
    let collection = &library.collections()[index];
    let years: Vec<u16> = collection
        .members
        .iter()
        .filter_map(|position| library.items()[*position].year)
        .collect();

    let mut object = Object::new();
    object.set("ratingKey", collection.key.to_string());
    object.set(
        "key",
        format!("/library/collections/{}/children", collection.key),
    );
    object.set("guid", format!("collection://{:032x}", collection.key));
    object.set("type", "collection");
    object.set("title", collection.title.clone());
    object.set("subtype", "movie");
    object.set("summary", "");
    object.set("index", 0);
    object.set(
        "thumb",
        format!("/library/metadata/{}/thumb/1700000000", collection.key),
    );

    object.set("childCount", collection.members.len().to_string());
    object.set_opt("minYear", years.iter().min().map(u16::to_string));
    object.set_opt("maxYear", years.iter().max().map(u16::to_string));
    object.set("addedAt", 1_650_000_000);
    object.set("updatedAt", 1_700_000_000);
    object.set("librarySectionID", library_index + 1);
    object.set("librarySectionTitle", library.name());
    object.finish(state.unknown_fields)
}

async fn section_collections(
    State(state): State<Arc<PlexState>>,
    Path(section): Path<String>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Response {
    let query = parse_query(raw_query.as_deref());
    let Some(library_index) = library_index(&state, &section) else {
        return html_error(StatusCode::NOT_FOUND);
    };
    let total = state.libraries[library_index].collections().len();
    let page = page(&headers, &query);
    let (start, end) = page_range(&page, total);
    let metadata: Vec<Value> = (start..end)
        .map(|index| collection_metadata(&state, library_index, index))
        .collect();
    let fields = section_fields(&state, library_index);
    metadata_page(&headers, fields, metadata, page.start, total)
}

/// Renders listed items of one library, paged, with the listing options of the query.
fn items_page(
    state: &PlexState,
    headers: &HeaderMap,
    query: &Query,
    library_index: usize,
    positions: &[usize],
) -> Response {
    let page = page(headers, query);
    let (start, end) = page_range(&page, positions.len());
    let options = RenderOptions {
        streams: state.streams_in_listings,
        guids: param(query, "includeGuids") == Some("1"),
        detail: false,
    };
    let metadata: Vec<Value> = positions[start..end]
        .iter()
        .map(|position| metadata::metadata(state, library_index, *position, options))
        .collect();
    let fields = section_fields(state, library_index);
    metadata_page(headers, fields, metadata, page.start, positions.len())
}

async fn collection_items(
    State(state): State<Arc<PlexState>>,
    Path(collection): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Response {
    let query = parse_query(raw_query.as_deref());
    match state.keys.get(&collection) {
        Some(KeyTarget::Collection { library, index }) => {
            let members = &state.libraries[*library].collections()[*index].members;
            items_page(&state, &headers, &query, *library, members)
        }
        _ => html_error(StatusCode::NOT_FOUND),
    }
}

async fn item_detail(
    State(state): State<Arc<PlexState>>,
    Path(key): Path<u64>,
    headers: HeaderMap,
) -> Response {
    let (library_index, entry) = match state.keys.get(&key) {
        Some(KeyTarget::Item { library, position }) => {
            let options = RenderOptions {
                streams: true,
                guids: true,
                detail: true,
            };
            (
                *library,
                metadata::metadata(&state, *library, *position, options),
            )
        }
        Some(KeyTarget::Collection { library, index }) => {
            (*library, collection_metadata(&state, *library, *index))
        }
        None => return html_error(StatusCode::NOT_FOUND),
    };
    let mut fields = section_fields(&state, library_index);
    fields.insert("size".to_owned(), 1.into());
    fields.insert("Metadata".to_owned(), Value::Array(vec![entry]));
    container(
        &headers,
        &json!({ "MediaContainer": Value::Object(fields) }),
    )
}

async fn item_children(
    State(state): State<Arc<PlexState>>,
    Path(key): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Response {
    let query = parse_query(raw_query.as_deref());
    match state.keys.get(&key) {
        Some(KeyTarget::Item { library, position }) => {
            let children = state.libraries[*library].children_of(*position).to_vec();
            items_page(&state, &headers, &query, *library, &children)
        }
        Some(KeyTarget::Collection { library, index }) => {
            let members = &state.libraries[*library].collections()[*index].members;
            items_page(&state, &headers, &query, *library, members)
        }
        None => html_error(StatusCode::NOT_FOUND),
    }
}

async fn playlists(
    State(state): State<Arc<PlexState>>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Response {
    let query = parse_query(raw_query.as_deref());
    // Every fake playlist contains video.
    let wanted = param(&query, "playlistType").is_none_or(|kind| kind == "video");
    let metadata: Vec<Value> = state
        .playlists
        .iter()
        .filter(|_| wanted)
        .map(|keyed| {
            let duration: u64 = keyed
                .playlist
                .items
                .iter()
                .filter_map(|(library, position)| {
                    state
                        .libraries
                        .get(*library)?
                        .items()
                        .get(*position)?
                        .runtime_minutes
                })
                .map(|minutes| u64::from(minutes) * 60_000)
                .sum();
            let mut object = Object::new();
            object.set("ratingKey", keyed.key.to_string());
            object.set("key", format!("/playlists/{}/items", keyed.key));
            object.set(
                "guid",
                format!("com.plexapp.agents.none://{:032x}", keyed.key),
            );
            object.set("type", "playlist");
            object.set("title", keyed.playlist.title.clone());
            object.set("summary", "");
            object.set("smart", false);
            object.set("playlistType", "video");
            object.set("leafCount", keyed.playlist.items.len());
            object.set("duration", duration);
            object.set("addedAt", 1_650_000_000);
            object.set("updatedAt", 1_700_000_000);
            object.finish(state.unknown_fields)
        })
        .collect();
    let total = metadata.len();
    metadata_page(&headers, Map::new(), metadata, 0, total)
}

async fn playlist_items(
    State(state): State<Arc<PlexState>>,
    Path(playlist): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Response {
    let query = parse_query(raw_query.as_deref());
    let Some(keyed) = state.playlists.iter().find(|keyed| keyed.key == playlist) else {
        return html_error(StatusCode::NOT_FOUND);
    };
    let entries: Vec<(usize, usize)> = keyed
        .playlist
        .items
        .iter()
        .copied()
        .filter(|(library, position)| {
            state
                .libraries
                .get(*library)
                .is_some_and(|library| *position < library.items().len())
        })
        .collect();

    let page = page(&headers, &query);
    let (start, end) = page_range(&page, entries.len());
    let options = RenderOptions {
        streams: state.streams_in_listings,
        guids: param(&query, "includeGuids") == Some("1"),
        detail: false,
    };
    let metadata: Vec<Value> = entries[start..end]
        .iter()
        .enumerate()
        .map(|(offset, (library, position))| {
            let mut entry = metadata::metadata(&state, *library, *position, options);
            if let Value::Object(map) = &mut entry {
                map.insert(
                    "playlistItemID".to_owned(),
                    (keyed.key * 1000 + (start + offset) as u64).into(),
                );
            }
            entry
        })
        .collect();
    let mut fields = Map::new();
    fields.insert("ratingKey".to_owned(), keyed.key.to_string().into());
    fields.insert("title".to_owned(), keyed.playlist.title.clone().into());
    fields.insert("playlistType".to_owned(), "video".into());
    metadata_page(&headers, fields, metadata, page.start, entries.len())
}

async fn sessions(State(state): State<Arc<PlexState>>, headers: HeaderMap) -> Response {
    let sessions = state.control.sessions();
    let metadata: Vec<Value> = sessions
        .iter()
        .enumerate()
        .filter_map(|(index, session)| {
            let mut entry = match &session.item {
                PlayingItem::Library { library, position } => {
                    let exists = state
                        .libraries
                        .get(*library)
                        .is_some_and(|library| *position < library.items().len());
                    if !exists {
                        return None;
                    }
                    let options = RenderOptions {
                        streams: true,
                        guids: true,
                        detail: false,
                    };
                    metadata::metadata(&state, *library, *position, options)
                }
                // NOTE: Plex reports cinema trailers and pre-rolls as `clip` items; the
                // `subtype` values here follow extras and are a best guess for pre-rolls.
                PlayingItem::Trailer { title } => json!({
                    "type": "clip", "subtype": "trailer", "extraType": 1, "title": title,
                    "ratingKey": format!("{}", 990_000 + index), "duration": 150_000,
                }),
                PlayingItem::PreRoll { title } => json!({
                    "type": "clip", "subtype": "preroll", "title": title,
                    "ratingKey": format!("{}", 991_000 + index), "duration": 30_000,
                }),
                // Plex lists only clients that play something.
                PlayingItem::Nothing => return None,
            };
            if let Value::Object(map) = &mut entry {
                map.insert("sessionKey".to_owned(), (index + 1).to_string().into());
                map.insert(
                    "viewOffset".to_owned(),
                    (session.position.as_millis() as u64).into(),
                );
                map.insert(
                    "User".to_owned(),
                    json!({"id": (index + 1).to_string(), "title": session.user, "thumb": ""}),
                );
                map.insert(
                    "Player".to_owned(),
                    json!({
                        "address": "127.0.0.1",
                        "machineIdentifier": format!("player-{index}"),
                        "platform": session.device,
                        "product": session.client,
                        "state": if session.paused { "paused" } else { "playing" },
                        "title": session.device,
                        "local": true,
                        "relayed": false,
                        "secure": true,
                        "userID": index + 1,
                    }),
                );
                map.insert(
                    "Session".to_owned(),
                    json!({"id": format!("session-{index}"), "bandwidth": 20_000, "location": "lan"}),
                );
            }
            Some(entry)
        })
        .collect();
    let total = metadata.len();
    metadata_page(&headers, Map::new(), metadata, 0, total)
}

/// Artwork an image path points at: full size, encoding and colour seed.
struct Artwork {
    size: (u32, u32),
    encoding: ImageEncoding,
    colour: u64,
}

/// Resolves `/library/metadata/{key}/{kind}/…` to the artwork it serves, if it exists.
fn resolve_artwork(state: &PlexState, key: u64, kind: &str) -> Option<Artwork> {
    let (poster_width, poster_height) = state.poster_size;
    let poster = |shape: ImageShape| match shape {
        ImageShape::Poster => state.poster_size,
        ImageShape::Landscape => (poster_height, poster_height * 9 / 16),
        ImageShape::Square => (poster_width, poster_width),
    };
    match *state.keys.get(&key)? {
        KeyTarget::Collection { .. } => (kind == "thumb").then_some(Artwork {
            size: state.poster_size,
            encoding: ImageEncoding::Jpeg,
            colour: key,
        }),
        KeyTarget::Item { library, position } => {
            let item: &Item = &state.libraries[library].items()[position];
            let images = item.images;
            let (size, encoding) = match kind {
                "thumb" if images.primary.exists() => {
                    (poster(images.primary_shape), ImageEncoding::Jpeg)
                }
                "art" if images.backdrops > 0 => (state.art_size, ImageEncoding::Jpeg),
                "clearLogo" if images.logo.exists() => (state.logo_size, ImageEncoding::Png),
                _ => return None,
            };
            Some(Artwork {
                size,
                encoding,
                colour: key,
            })
        }
    }
}

async fn render(artwork: &Artwork, size: (u32, u32)) -> Response {
    match images::render(size.0, size.1, artwork.colour, artwork.encoding).await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(artwork.encoding.content_type()),
            );
            response
        }
        Err(error) => {
            warn!(%error, "fake server could not render an image");
            html_error(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// Serves the original artwork. Plex ignores `width` and `height` here, so clients that want
/// a small image must go through `/photo/:/transcode`.
async fn artwork(
    State(state): State<Arc<PlexState>>,
    Path((key, kind, _version)): Path<(u64, String, String)>,
) -> Response {
    match resolve_artwork(&state, key, &kind) {
        Some(artwork) => render(&artwork, artwork.size).await,
        None => html_error(StatusCode::NOT_FOUND),
    }
}

/// Parses the `url` parameter of the transcoder, a path on this server (possibly absolute or
/// with a query), to `(key, kind)`.
fn transcode_source(url: &str) -> Option<(u64, &str)> {
    let path = match url.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => url,
    };
    let path = path.split('?').next()?;
    let rest = path.strip_prefix("/library/metadata/")?;
    let mut segments = rest.split('/');
    let key = segments.next()?.parse().ok()?;
    let kind = segments.next()?;
    Some((key, kind))
}

/// Output size of the transcoder: fit inside `width` × `height`, or cover it with
/// `minSize=1`; never larger than the original unless `upscale=1`.
fn transcode_size(original: (u32, u32), query: &Query) -> (u32, u32) {
    let number = |name: &str| {
        param(query, name)
            .and_then(|value| value.parse::<u32>().ok())
            .filter(|value| *value > 0)
    };
    let (width, height) = (f64::from(original.0), f64::from(original.1));
    let scales: Vec<f64> = [
        number("width").map(|value| f64::from(value) / width),
        number("height").map(|value| f64::from(value) / height),
    ]
    .into_iter()
    .flatten()
    .collect();
    if scales.is_empty() {
        return original;
    }
    let cover = param(query, "minSize") == Some("1");
    let mut factor = if cover {
        scales.iter().copied().fold(f64::MIN, f64::max)
    } else {
        scales.iter().copied().fold(f64::MAX, f64::min)
    };
    if param(query, "upscale") != Some("1") {
        factor = factor.min(1.0);
    }
    let side = |value: f64| ((value * factor).round() as u32).clamp(1, MAX_SIDE);
    (side(width), side(height))
}

async fn transcode(State(state): State<Arc<PlexState>>, RawQuery(raw_query): RawQuery) -> Response {
    let query = parse_query(raw_query.as_deref());
    let Some(url) = param(&query, "url") else {
        return html_error(StatusCode::BAD_REQUEST);
    };
    let Some((key, kind)) = transcode_source(url) else {
        return html_error(StatusCode::NOT_FOUND);
    };
    if state.control.is_transcode_missing(key) {
        return html_error(StatusCode::NOT_FOUND);
    }
    let Some(mut artwork) = resolve_artwork(&state, key, kind) else {
        return html_error(StatusCode::NOT_FOUND);
    };
    match param(&query, "format") {
        Some("png") => artwork.encoding = ImageEncoding::Png,
        Some("jpg" | "jpeg") => artwork.encoding = ImageEncoding::Jpeg,
        _ => {}
    }
    let size = transcode_size(artwork.size, &query);
    render(&artwork, size).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcode_source_accepts_relative_absolute_and_query() {
        assert_eq!(
            transcode_source("/library/metadata/123/thumb/1700000000"),
            Some((123, "thumb"))
        );
        assert_eq!(
            transcode_source("http://127.0.0.1:32400/library/metadata/7/art/1?X-Plex-Token=x"),
            Some((7, "art"))
        );
        assert_eq!(transcode_source("/:/resources/movie.png"), None);
    }

    #[test]
    fn transcode_size_fits_covers_and_caps() {
        let query = |text: &str| parse_query(Some(text));
        assert_eq!(
            transcode_size((2400, 3600), &query("width=600&height=900")),
            (600, 900)
        );
        assert_eq!(
            transcode_size((2400, 3600), &query("width=600&height=600")),
            (400, 600)
        );
        assert_eq!(
            transcode_size((2400, 3600), &query("width=600&height=600&minSize=1")),
            (600, 900)
        );
        assert_eq!(transcode_size((200, 300), &query("width=600")), (200, 300));
        assert_eq!(
            transcode_size((200, 300), &query("width=600&upscale=1")),
            (600, 900)
        );
    }
}
